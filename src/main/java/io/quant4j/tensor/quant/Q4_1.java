package io.quant4j.tensor.quant;

import io.quant4j.tensor.GgmlType;

import java.lang.foreign.MemorySegment;

/** Q4_1: blocks of 32 as {@code half d; half m; u8 qs[16]}, x ≈ d·q + m; nibble order as Q4_0. */
public final class Q4_1 implements RowCodec {
    public static final int QK = 32;
    public static final int BLOCK_BYTES = 20;
    static final int OFF_D = 0;
    static final int OFF_M = 2;
    static final int OFF_QS = 4;

    public static final Q4_1 INSTANCE = new Q4_1();

    private Q4_1() {
    }

    @Override
    public GgmlType type() {
        return GgmlType.Q4_1;
    }

    @Override
    public void quantizeRow(float[] src, int srcOff, int n, MemorySegment dst, long dstOff, float[] importance) {
        int nb = Bits.blocks(GgmlType.Q4_1, n);
        Bits.checkImportance(importance, n);
        byte[] y = new byte[BLOCK_BYTES];
        if (importance == null) {
            for (int ib = 0; ib < nb; ib++) {
                quantizeBlockRef(src, srcOff + ib * QK, y);
                Bits.store(y, dst, dstOff + (long) ib * BLOCK_BYTES);
            }
            return;
        }
        // quantize_row_q4_1_impl: weighted (scale, min) search with make_qkx3_quants.
        float sigma2 = Legacy.rowSigma2(src, srcOff, n);
        float[] weight = new float[QK];
        byte[] L = new byte[QK];
        byte[] Laux = new byte[QK];
        ScaleSearch.Min min = new ScaleSearch.Min();
        for (int ib = 0; ib < nb; ib++) {
            int xo = srcOff + ib * QK;
            Legacy.imatrixWeights(src, xo, importance, ib * QK, sigma2, weight);
            float d = ScaleSearch.makeQkx3Quants(QK, 15, src, xo, weight, 0, L, 0, min, Laux, -0.9f, 0.05f, 36, false);
            Bits.putF16(y, OFF_D, d);
            Bits.putF16(y, OFF_M, -min.value);
            for (int j = 0; j < 16; ++j) {
                y[OFF_QS + j] = (byte) (L[j] | L[j + 16] << 4);
            }
            Bits.store(y, dst, dstOff + (long) ib * BLOCK_BYTES);
        }
    }

    /** quantize_row_q4_1_ref for one block: d = (max − min)/15, m = min. */
    static void quantizeBlockRef(float[] x, int xo, byte[] y) {
        float min = Float.MAX_VALUE;
        float max = -Float.MAX_VALUE;
        for (int j = 0; j < QK; j++) {
            float v = x[xo + j];
            if (v < min) {
                min = v;
            }
            if (v > max) {
                max = v;
            }
        }
        float d = (max - min) / ((1 << 4) - 1);
        float id = d != 0 ? 1.0f / d : 0.0f;
        Bits.putF16(y, OFF_D, d);
        Bits.putF16(y, OFF_M, min);
        for (int j = 0; j < QK / 2; ++j) {
            float x0 = (x[xo + j] - min) * id;
            float x1 = (x[xo + QK / 2 + j] - min) * id;
            int xi0 = Math.min(15, Bits.toInt8(x0 + 0.5f)) & 0xFF;
            int xi1 = Math.min(15, Bits.toInt8(x1 + 0.5f)) & 0xFF;
            y[OFF_QS + j] = (byte) (xi0 | xi1 << 4);
        }
    }

    @Override
    public void dequantizeRow(MemorySegment src, long srcOff, float[] dst, int dstOff, int n) {
        int nb = Bits.blocks(GgmlType.Q4_1, n);
        byte[] b = new byte[BLOCK_BYTES];
        for (int ib = 0; ib < nb; ib++) {
            Bits.load(src, srcOff + (long) ib * BLOCK_BYTES, b);
            dequantizeBlock(b, dst, dstOff + ib * QK);
        }
    }

    static void dequantizeBlock(byte[] b, float[] y, int yo) {
        float d = Bits.getF16(b, OFF_D);
        float m = Bits.getF16(b, OFF_M);
        for (int j = 0; j < QK / 2; ++j) {
            int q = b[OFF_QS + j] & 0xFF;
            y[yo + j] = (q & 0x0F) * d + m;
            y[yo + j + QK / 2] = (q >>> 4) * d + m;
        }
    }
}
