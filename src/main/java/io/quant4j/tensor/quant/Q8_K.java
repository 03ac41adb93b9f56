package io.quant4j.tensor.quant;

import io.quant4j.tensor.GgmlType;

import java.lang.foreign.MemorySegment;
import java.util.Arrays;
import java.lang.foreign.ValueLayout;

import static io.quant4j.tensor.quant.Bits.nearestInt;

/**
 * Q8_K: the activation format k-quant dot products pair with, blocks of 256 as
 * {@code float d; i8 qs[256]; i16 bsums[16]} (bsums = sums of 16 consecutive qs), x ≈ d·q.
 */
public final class Q8_K implements RowCodec {
    public static final int QK_K = 256;
    public static final int BLOCK_BYTES = 292;
    static final int OFF_D = 0;
    static final int OFF_QS = 4;
    static final int OFF_BSUMS = 260;

    public static final Q8_K INSTANCE = new Q8_K();

    private Q8_K() {
    }

    @Override
    public GgmlType type() {
        return GgmlType.Q8_K;
    }

    /** quantize_row_q8_K_ref; there is no imatrix variant. */
    @Override
    public void quantizeRow(float[] src, int srcOff, int n, MemorySegment dst, long dstOff, float[] importance) {
        int nb = Bits.blocks(GgmlType.Q8_K, n);
        byte[] y = new byte[BLOCK_BYTES];
        for (int i = 0; i < nb; i++) {
            quantizeBlock(src, srcOff + i * QK_K, y);
            Bits.store(y, dst, dstOff + (long) i * BLOCK_BYTES);
        }
    }

    static void quantizeBlock(float[] x, int xo, byte[] y) {
        float max = 0;
        float amax = 0;
        for (int j = 0; j < QK_K; ++j) {
            float ax = Math.abs(x[xo + j]);
            if (ax > amax) {
                amax = ax;
                max = x[xo + j];
            }
        }
        if (amax == 0) {
            // C zeroes d and qs but leaves bsums untouched; zero them here so output never depends on old bytes.
            Arrays.fill(y, (byte) 0);
            return;
        }
        // -127, not -128: ggml needs |q| ≤ 127 for its IQ2_XXS SIMD dot products.
        float iscale = -127.f / max;
        for (int j = 0; j < QK_K; ++j) {
            int v = nearestInt(iscale * x[xo + j]);
            y[OFF_QS + j] = (byte) Math.min(127, v);
        }
        for (int j = 0; j < QK_K / 16; ++j) {
            int sum = 0;
            for (int ii = 0; ii < 16; ++ii) {
                sum += y[OFF_QS + j * 16 + ii];
            }
            Bits.putI16(y, OFF_BSUMS + 2 * j, sum);
        }
        Bits.putI32(y, OFF_D, Float.floatToRawIntBits(1 / iscale));
    }

    @Override
    public void dequantizeRow(MemorySegment src, long srcOff, float[] dst, int dstOff, int n) {
        int nb = Bits.blocks(GgmlType.Q8_K, n);
        for (int i = 0; i < nb; i++) {
            long bo = srcOff + (long) i * BLOCK_BYTES;
            float d = src.get(Bits.F32, bo + OFF_D);
            for (int j = 0; j < QK_K; ++j) {
                dst[dstOff + i * QK_K + j] = d * src.get(ValueLayout.JAVA_BYTE, bo + OFF_QS + j);
            }
        }
    }
}
