package io.quant4j.tensor.quant;

import io.quant4j.tensor.GgmlType;

import java.lang.foreign.MemorySegment;
import java.util.Arrays;

/**
 * Q4_K: super-blocks of 256 as {@code half d; half dmin; u8 scales[12]; u8 qs[128]}. Eight sub-blocks of 32
 * with 6-bit scales and mins ({@link KScales}): x ≈ d·sc·q − dmin·m, q ∈ [0, 15]. Each 64 elements use 32 qs
 * bytes: the first 32 in the low nibbles, the next 32 in the high nibbles.
 */
public final class Q4_K implements RowCodec {
    public static final int QK_K = 256;
    public static final int BLOCK_BYTES = 144;
    static final int OFF_D = 0;
    static final int OFF_DMIN = 2;
    static final int OFF_SCALES = 4;
    static final int OFF_QS = 16;

    public static final Q4_K INSTANCE = new Q4_K();

    private Q4_K() {
    }

    @Override
    public GgmlType type() {
        return GgmlType.Q4_K;
    }

    @Override
    public void quantizeRow(float[] src, int srcOff, int n, MemorySegment dst, long dstOff, float[] importance) {
        quantizeRow(src, srcOff, n, dst, dstOff, importance, KScales.Scratch.local());
    }

    /** The scalar reference only (no {@link KQuantSearchKernels} lanes), for the differential tests. */
    static void quantizeRowScalar(float[] src, int srcOff, int n, MemorySegment dst, long dstOff, float[] importance) {
        quantizeRow(src, srcOff, n, dst, dstOff, importance, new KScales.Scratch(false));
    }

    private static void quantizeRow(float[] src, int srcOff, int n, MemorySegment dst, long dstOff, float[] importance,
                                    KScales.Scratch s) {
        int nb = Bits.blocks(GgmlType.Q4_K, n);
        Bits.checkImportance(importance, n);
        byte[] y = new byte[BLOCK_BYTES];
        for (int i = 0; i < nb; i++) {
            int xo = srcOff + i * QK_K;
            Arrays.fill(y, (byte) 0);
            boolean lanes = s.lanes(src, xo);
            if (importance == null) {
                KScales.quantizeScalesRef(src, xo, 15, -1.f, 0.1f, 20, y, OFF_D, OFF_DMIN, OFF_SCALES, s, lanes);
            } else {
                KScales.quantizeScalesImatrix(src, xo, importance, i * QK_K, 15, false, y, OFF_D, OFF_DMIN, OFF_SCALES, s);
            }
            KScales.requantize(src, xo, 15, y, OFF_D, OFF_DMIN, OFF_SCALES, s.L, lanes);
            byte[] L = s.L;
            int q = OFF_QS;
            for (int j = 0; j < QK_K; j += 64) {
                for (int l = 0; l < 32; ++l) {
                    y[q + l] = (byte) (L[j + l] | L[j + l + 32] << 4);
                }
                q += 32;
            }
            Bits.store(y, dst, dstOff + (long) i * BLOCK_BYTES);
        }
    }

    @Override
    public void dequantizeRow(MemorySegment src, long srcOff, float[] dst, int dstOff, int n) {
        int nb = Bits.blocks(GgmlType.Q4_K, n);
        byte[] b = new byte[BLOCK_BYTES];
        for (int i = 0; i < nb; i++) {
            Bits.load(src, srcOff + (long) i * BLOCK_BYTES, b);
            dequantizeBlock(b, dst, dstOff + i * QK_K);
        }
    }

    static void dequantizeBlock(byte[] b, float[] y, int yo) {
        float d = Bits.getF16(b, OFF_D);
        float min = Bits.getF16(b, OFF_DMIN);
        int q = OFF_QS;
        int is = 0;
        for (int j = 0; j < QK_K; j += 64) {
            float d1 = d * KScales.scale(b, OFF_SCALES, is);
            float m1 = min * KScales.min(b, OFF_SCALES, is);
            float d2 = d * KScales.scale(b, OFF_SCALES, is + 1);
            float m2 = min * KScales.min(b, OFF_SCALES, is + 1);
            for (int l = 0; l < 32; ++l) {
                y[yo++] = d1 * (b[q + l] & 0xF) - m1;
            }
            for (int l = 0; l < 32; ++l) {
                y[yo++] = d2 * ((b[q + l] & 0xFF) >>> 4) - m2;
            }
            q += 32;
            is += 2;
        }
    }
}
