package io.quant4j.tensor.quant;

import io.quant4j.tensor.GgmlType;

import java.lang.foreign.MemorySegment;

/**
 * IQ4_NL: blocks of 32 as {@code half d; u8 qs[16]}, x ≈ d·K[q] with the non-linear 16-entry table K;
 * nibble order as Q4_0. Quantized as llama.cpp's quantize_iq4_nl (quantize_row_iq4_nl_impl with one
 * 32-element block, ntry = 7).
 */
public final class IQ4_NL implements RowCodec {
    public static final int QK = 32;
    public static final int BLOCK_BYTES = 18;
    static final int OFF_D = 0;
    static final int OFF_QS = 2;
    private static final int NTRY = 7;

    /** kvalues_iq4nl. */
    static final byte[] VALUES = {-127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113};

    public static final IQ4_NL INSTANCE = new IQ4_NL();

    private IQ4_NL() {
    }

    @Override
    public GgmlType type() {
        return GgmlType.IQ4_NL;
    }

    @Override
    public void quantizeRow(float[] src, int srcOff, int n, MemorySegment dst, long dstOff, float[] importance) {
        int nb = Bits.blocks(GgmlType.IQ4_NL, n);
        Bits.checkImportance(importance, n);
        byte[] y = new byte[BLOCK_BYTES];
        float[] weight = new float[QK];
        byte[] L = new byte[QK];
        for (int ib = 0; ib < nb; ib++) {
            quantizeBlock(src, srcOff + ib * QK, importance, ib * QK, weight, L, y);
            Bits.store(y, dst, dstOff + (long) ib * BLOCK_BYTES);
        }
    }

    /**
     * best_index_int8 as in the golden-file snapshot: binary search, then the nearer neighbour with ties to the
     * upper one (distances computed in float like the C).
     */
    static int bestIndex(float x) {
        if (x <= VALUES[0]) {
            return 0;
        }
        if (x >= VALUES[15]) {
            return 15;
        }
        int ml = 0;
        int mu = 15;
        while (mu - ml > 1) {
            int mav = (ml + mu) / 2;
            if (x < VALUES[mav]) {
                mu = mav;
            } else {
                ml = mav;
            }
        }
        return x - VALUES[mu - 1] < VALUES[mu] - x ? mu - 1 : mu;
    }

    /** quantize_row_iq4_nl_impl for super_block_size = block_size = 32. */
    private static void quantizeBlock(float[] x, int xo, float[] qw, int qo, float[] weight, byte[] L, byte[] y) {
        float sigma2 = 0;
        for (int j = 0; j < QK; ++j) {
            sigma2 += x[xo + j] * x[xo + j];
        }
        sigma2 *= 2.f / QK;
        if (qw != null) {
            for (int j = 0; j < QK; ++j) {
                weight[j] = qw[qo + j] * Bits.sqrtf(sigma2 + x[xo + j] * x[xo + j]);
            }
        } else {
            for (int j = 0; j < QK; ++j) {
                weight[j] = x[xo + j] * x[xo + j];
            }
        }
        float amax = 0;
        float max = 0;
        for (int j = 0; j < QK; ++j) {
            float ax = Math.abs(x[xo + j]);
            if (ax > amax) {
                amax = ax;
                max = x[xo + j];
            }
        }
        float scale = 0;
        if (amax >= Bits.GROUP_MAX_EPS) {
            float d = -max / VALUES[0];
            float id = 1 / d;
            float sumqx = 0;
            float sumq2 = 0;
            for (int j = 0; j < QK; ++j) {
                float al = id * x[xo + j];
                int l = bestIndex(al);
                float q = VALUES[l];
                float w = weight[j];
                sumqx += w * q * x[xo + j];
                sumq2 += w * q * q;
            }
            d = sumqx / sumq2;
            float best = d * sumqx;
            for (int itry = -NTRY; itry <= NTRY; ++itry) {
                id = (itry + VALUES[0]) / max;
                sumqx = 0;
                sumq2 = 0;
                for (int j = 0; j < QK; ++j) {
                    float al = id * x[xo + j];
                    int l = bestIndex(al);
                    float q = VALUES[l];
                    float w = weight[j];
                    sumqx += w * q * x[xo + j];
                    sumq2 += w * q * q;
                }
                if (sumq2 > 0 && sumqx * sumqx > best * sumq2) {
                    d = sumqx / sumq2;
                    best = d * sumqx;
                }
            }
            scale = d;
        }
        Bits.putF16(y, OFF_D, scale);
        // One block per super-block: levels are re-derived from the float (not fp16) scale.
        float id = scale != 0 ? 1 / scale : 0;
        for (int j = 0; j < QK; ++j) {
            L[j] = (byte) bestIndex(id * x[xo + j]);
        }
        for (int j = 0; j < 16; ++j) {
            y[OFF_QS + j] = (byte) (L[j] | L[16 + j] << 4);
        }
    }

    @Override
    public void dequantizeRow(MemorySegment src, long srcOff, float[] dst, int dstOff, int n) {
        int nb = Bits.blocks(GgmlType.IQ4_NL, n);
        byte[] b = new byte[BLOCK_BYTES];
        for (int ib = 0; ib < nb; ib++) {
            Bits.load(src, srcOff + (long) ib * BLOCK_BYTES, b);
            dequantizeBlock(b, dst, dstOff + ib * QK);
        }
    }

    static void dequantizeBlock(byte[] b, float[] y, int yo) {
        float d = Bits.getF16(b, OFF_D);
        for (int j = 0; j < QK / 2; ++j) {
            int q = b[OFF_QS + j] & 0xFF;
            y[yo + j] = d * VALUES[q & 0xF];
            y[yo + j + QK / 2] = d * VALUES[q >>> 4];
        }
    }
}
