package io.quant4j.tensor.quant;

import io.quant4j.tensor.GgmlType;

import java.lang.foreign.MemorySegment;

/**
 * Q5_0: blocks of 32 as {@code half d; u8 qh[4]; u8 qs[16]}, x ≈ d·(q − 16). Low nibbles as Q4_0; the 5th bit
 * of element j is bit j of the little-endian uint32 qh.
 */
public final class Q5_0 implements RowCodec {
    public static final int QK = 32;
    public static final int BLOCK_BYTES = 22;
    static final int OFF_D = 0;
    static final int OFF_QH = 2;
    static final int OFF_QS = 6;

    public static final Q5_0 INSTANCE = new Q5_0();

    private Q5_0() {
    }

    @Override
    public GgmlType type() {
        return GgmlType.Q5_0;
    }

    @Override
    public void quantizeRow(float[] src, int srcOff, int n, MemorySegment dst, long dstOff, float[] importance) {
        int nb = Bits.blocks(GgmlType.Q5_0, n);
        Bits.checkImportance(importance, n);
        byte[] y = new byte[BLOCK_BYTES];
        if (importance == null) {
            for (int ib = 0; ib < nb; ib++) {
                quantizeBlockRef(src, srcOff + ib * QK, y);
                Bits.store(y, dst, dstOff + (long) ib * BLOCK_BYTES);
            }
            return;
        }
        // quantize_row_q5_0_impl: make_qx_quants with nmax 16 under the imatrix weights.
        float sigma2 = Legacy.rowSigma2(src, srcOff, n);
        float[] weight = new float[QK];
        byte[] L = new byte[QK];
        for (int ib = 0; ib < nb; ib++) {
            int xo = srcOff + ib * QK;
            Legacy.imatrixWeights(src, xo, importance, ib * QK, sigma2, weight);
            float d = ScaleSearch.makeQxQuants(QK, 16, src, xo, L, 0, 1, weight, 0);
            Bits.putF16(y, OFF_D, d);
            pack(L, y);
            Bits.store(y, dst, dstOff + (long) ib * BLOCK_BYTES);
        }
    }

    /** Packs 32 five-bit levels into qs (low nibbles) and qh (fifth bits). */
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

    /** quantize_row_q5_0_ref for one block: d = max/−16. */
    static void quantizeBlockRef(float[] x, int xo, byte[] y) {
        float amax = 0.0f;
        float max = 0.0f;
        for (int j = 0; j < QK; j++) {
            float v = x[xo + j];
            if (amax < Math.abs(v)) {
                amax = Math.abs(v);
                max = v;
            }
        }
        float d = max / -16;
        float id = d != 0 ? 1.0f / d : 0.0f;
        Bits.putF16(y, OFF_D, d);
        byte[] L = new byte[QK];
        for (int j = 0; j < QK; ++j) {
            L[j] = (byte) Math.min(31, Bits.toInt8(x[xo + j] * id + 16.5f));
        }
        pack(L, y);
    }

    @Override
    public void dequantizeRow(MemorySegment src, long srcOff, float[] dst, int dstOff, int n) {
        int nb = Bits.blocks(GgmlType.Q5_0, n);
        byte[] b = new byte[BLOCK_BYTES];
        for (int ib = 0; ib < nb; ib++) {
            Bits.load(src, srcOff + (long) ib * BLOCK_BYTES, b);
            dequantizeBlock(b, dst, dstOff + ib * QK);
        }
    }

    static void dequantizeBlock(byte[] b, float[] y, int yo) {
        float d = Bits.getF16(b, OFF_D);
        int qh = Bits.getI32(b, OFF_QH);
        for (int j = 0; j < QK / 2; ++j) {
            int q = b[OFF_QS + j] & 0xFF;
            int xh0 = ((qh >>> j) << 4) & 0x10;
            int xh1 = (qh >>> (j + 12)) & 0x10;
            y[yo + j] = (((q & 0x0F) | xh0) - 16) * d;
            y[yo + j + QK / 2] = (((q >>> 4) | xh1) - 16) * d;
        }
    }
}
