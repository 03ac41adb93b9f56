package io.quant4j.tensor.quant;

import io.quant4j.tensor.GgmlType;

import java.lang.foreign.MemorySegment;

/** Q5_1: blocks of 32 as {@code half d; half m; u8 qh[4]; u8 qs[16]}, x ≈ d·q + m; bits as Q5_0. */
public final class Q5_1 implements RowCodec {
    public static final int QK = 32;
    public static final int BLOCK_BYTES = 24;
    static final int OFF_D = 0;
    static final int OFF_M = 2;
    static final int OFF_QH = 4;
    static final int OFF_QS = 8;

    public static final Q5_1 INSTANCE = new Q5_1();

    private Q5_1() {
    }

    @Override
    public GgmlType type() {
        return GgmlType.Q5_1;
    }

    @Override
    public void quantizeRow(float[] src, int srcOff, int n, MemorySegment dst, long dstOff, float[] importance) {
        int nb = Bits.blocks(GgmlType.Q5_1, n);
        Bits.checkImportance(importance, n);
        byte[] y = new byte[BLOCK_BYTES];
        if (importance == null) {
            for (int ib = 0; ib < nb; ib++) {
                quantizeBlockRef(src, srcOff + ib * QK, y);
                Bits.store(y, dst, dstOff + (long) ib * BLOCK_BYTES);
            }
            return;
        }
        // quantize_row_q5_1_impl: weighted (scale, min) search with make_qkx3_quants.
        float sigma2 = Legacy.rowSigma2(src, srcOff, n);
        float[] weight = new float[QK];
        byte[] L = new byte[QK];
        byte[] Laux = new byte[QK];
        ScaleSearch.Min min = new ScaleSearch.Min();
        for (int ib = 0; ib < nb; ib++) {
            int xo = srcOff + ib * QK;
            Legacy.imatrixWeights(src, xo, importance, ib * QK, sigma2, weight);
            float d = ScaleSearch.makeQkx3Quants(QK, 31, src, xo, weight, 0, L, 0, min, Laux, -0.9f, 0.05f, 36, false);
            Bits.putF16(y, OFF_D, d);
            Bits.putF16(y, OFF_M, -min.value);
            pack(L, y);
            Bits.store(y, dst, dstOff + (long) ib * BLOCK_BYTES);
        }
    }

    static void pack(byte[] L, byte[] y) {
        int qh = 0;
        for (int j = 0; j < QK / 2; ++j) {
            int xi0 = L[j] & 0xFF;
            int xi1 = L[j + QK / 2] & 0xFF;
            y[OFF_QS + j] = (byte) ((xi0 & 0x0F) | (xi1 & 0x0F) << 4);
            qh |= ((xi0 & 0x10) >>> 4) << j;
            qh |= ((xi1 & 0x10) >>> 4) << (j + QK / 2);
        }
        Bits.putI32(y, OFF_QH, qh);
    }

    /** quantize_row_q5_1_ref for one block: d = (max − min)/31, m = min, q = (uint8_t)(x' + 0.5f). */
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
        float d = (max - min) / ((1 << 5) - 1);
        float id = d != 0 ? 1.0f / d : 0.0f;
        Bits.putF16(y, OFF_D, d);
        Bits.putF16(y, OFF_M, min);
        byte[] L = new byte[QK];
        for (int j = 0; j < QK; ++j) {
            L[j] = (byte) (int) ((x[xo + j] - min) * id + 0.5f);
        }
        pack(L, y);
    }

    @Override
    public void dequantizeRow(MemorySegment src, long srcOff, float[] dst, int dstOff, int n) {
        int nb = Bits.blocks(GgmlType.Q5_1, n);
        byte[] b = new byte[BLOCK_BYTES];
        for (int ib = 0; ib < nb; ib++) {
            Bits.load(src, srcOff + (long) ib * BLOCK_BYTES, b);
            dequantizeBlock(b, dst, dstOff + ib * QK);
        }
    }

    static void dequantizeBlock(byte[] b, float[] y, int yo) {
        float d = Bits.getF16(b, OFF_D);
        float m = Bits.getF16(b, OFF_M);
        int qh = Bits.getI32(b, OFF_QH);
        for (int j = 0; j < QK / 2; ++j) {
            int q = b[OFF_QS + j] & 0xFF;
            int xh0 = ((qh >>> j) << 4) & 0x10;
            int xh1 = (qh >>> (j + 12)) & 0x10;
            y[yo + j] = ((q & 0x0F) | xh0) * d + m;
            y[yo + j + QK / 2] = ((q >>> 4) | xh1) * d + m;
        }
    }
}
