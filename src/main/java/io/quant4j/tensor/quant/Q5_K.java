package io.quant4j.tensor.quant;

import io.quant4j.tensor.GgmlType;

import java.lang.foreign.MemorySegment;
import java.util.Arrays;

/**
 * Q5_K: super-blocks of 256 as {@code half d; half dmin; u8 scales[12]; u8 qh[32]; u8 qs[128]}; as Q4_K with
 * q ∈ [0, 31]. For the n-th 64 elements, bit 2n of qh[l] is the fifth bit of element l and bit 2n+1 that of
 * element l+32.
 */
public final class Q5_K implements RowCodec {
    public static final int QK_K = 256;
    public static final int BLOCK_BYTES = 176;
    static final int OFF_D = 0;
    static final int OFF_DMIN = 2;
    static final int OFF_SCALES = 4;
    static final int OFF_QH = 16;
    static final int OFF_QS = 48;

    public static final Q5_K INSTANCE = new Q5_K();

    private Q5_K() {
    }

    @Override
    public GgmlType type() {
        return GgmlType.Q5_K;
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
        int nb = Bits.blocks(GgmlType.Q5_K, n);
        Bits.checkImportance(importance, n);
        byte[] y = new byte[BLOCK_BYTES];
        for (int i = 0; i < nb; i++) {
            int xo = srcOff + i * QK_K;
            Arrays.fill(y, (byte) 0);
            boolean lanes = s.lanes(src, xo);
            if (importance == null) {
                KScales.quantizeScalesRef(src, xo, 31, -0.5f, 0.1f, 15, y, OFF_D, OFF_DMIN, OFF_SCALES, s, lanes);
            } else {
                KScales.quantizeScalesImatrix(src, xo, importance, i * QK_K, 31, true, y, OFF_D, OFF_DMIN, OFF_SCALES, s);
            }
            KScales.requantize(src, xo, 31, y, OFF_D, OFF_DMIN, OFF_SCALES, s.L, lanes);
            byte[] L = s.L;
            int ql = OFF_QS;
            int m1 = 1;
            int m2 = 2;
            for (int nn = 0; nn < QK_K; nn += 64) {
                for (int j = 0; j < 32; ++j) {
                    int l1 = L[nn + j];
                    if (l1 > 15) {
                        l1 -= 16;
                        y[OFF_QH + j] |= (byte) m1;
                    }
                    int l2 = L[nn + j + 32];
                    if (l2 > 15) {
                        l2 -= 16;
                        y[OFF_QH + j] |= (byte) m2;
                    }
                    y[ql + j] = (byte) (l1 | l2 << 4);
                }
                m1 <<= 2;
                m2 <<= 2;
                ql += 32;
            }
            Bits.store(y, dst, dstOff + (long) i * BLOCK_BYTES);
        }
    }

    @Override
    public void dequantizeRow(MemorySegment src, long srcOff, float[] dst, int dstOff, int n) {
        int nb = Bits.blocks(GgmlType.Q5_K, n);
        byte[] b = new byte[BLOCK_BYTES];
        for (int i = 0; i < nb; i++) {
            Bits.load(src, srcOff + (long) i * BLOCK_BYTES, b);
            dequantizeBlock(b, dst, dstOff + i * QK_K);
        }
    }

    static void dequantizeBlock(byte[] b, float[] y, int yo) {
        float d = Bits.getF16(b, OFF_D);
        float min = Bits.getF16(b, OFF_DMIN);
        int ql = OFF_QS;
        int is = 0;
        int u1 = 1;
        int u2 = 2;
        for (int j = 0; j < QK_K; j += 64) {
            float d1 = d * KScales.scale(b, OFF_SCALES, is);
            float m1 = min * KScales.min(b, OFF_SCALES, is);
            float d2 = d * KScales.scale(b, OFF_SCALES, is + 1);
            float m2 = min * KScales.min(b, OFF_SCALES, is + 1);
            for (int l = 0; l < 32; ++l) {
                y[yo++] = d1 * ((b[ql + l] & 0xF) + ((b[OFF_QH + l] & u1) != 0 ? 16 : 0)) - m1;
            }
            for (int l = 0; l < 32; ++l) {
                y[yo++] = d2 * (((b[ql + l] & 0xFF) >>> 4) + ((b[OFF_QH + l] & u2) != 0 ? 16 : 0)) - m2;
            }
            ql += 32;
            is += 2;
            u1 <<= 2;
            u2 <<= 2;
        }
    }
}
