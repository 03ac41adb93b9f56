package io.quant4j.tensor.quant;

import io.quant4j.tensor.GgmlType;

import java.lang.foreign.MemorySegment;

/**
 * Q4_0: blocks of 32 as {@code half d; u8 qs[16]}, x ≈ d·(q − 8). Byte j holds element j in its low nibble
 * and element j+16 in its high nibble.
 */
public final class Q4_0 implements RowCodec {
    public static final int QK = 32;
    public static final int BLOCK_BYTES = 18;
    static final int OFF_D = 0;
    static final int OFF_QS = 2;

    public static final Q4_0 INSTANCE = new Q4_0();

    private Q4_0() {
    }

    @Override
    public GgmlType type() {
        return GgmlType.Q4_0;
    }

    @Override
    public void quantizeRow(float[] src, int srcOff, int n, MemorySegment dst, long dstOff, float[] importance) {
        int nb = Bits.blocks(GgmlType.Q4_0, n);
        Bits.checkImportance(importance, n);
        if (importance == null) {
            QuantizeKernels.quantizeRowQ4_0(src, srcOff, nb, dst, dstOff);
            return;
        }
        byte[] y = new byte[BLOCK_BYTES];
        // quantize_row_q4_0_impl: weights qw·sqrt(σ² + x²), σ² = mean x² of the whole row.
        float sigma2 = Legacy.rowSigma2(src, srcOff, n);
        float[] weight = new float[QK];
        byte[] L = new byte[QK];
        for (int ib = 0; ib < nb; ib++) {
            int xo = srcOff + ib * QK;
            Legacy.imatrixWeights(src, xo, importance, ib * QK, sigma2, weight);
            float d = ScaleSearch.makeQxQuants(QK, 8, src, xo, L, 0, 1, weight, 0);
            Bits.putF16(y, OFF_D, d);
            for (int j = 0; j < 16; ++j) {
                y[OFF_QS + j] = (byte) (L[j] | L[j + 16] << 4);
            }
            Bits.store(y, dst, dstOff + (long) ib * BLOCK_BYTES);
        }
    }

    /** quantize_row_q4_0_ref block by block, the reference {@link QuantizeKernels#quantizeRowQ4_0} is tested against. */
    static void quantizeRowScalar(float[] src, int srcOff, int n, MemorySegment dst, long dstOff) {
        int nb = Bits.blocks(GgmlType.Q4_0, n);
        byte[] y = new byte[BLOCK_BYTES];
        for (int ib = 0; ib < nb; ib++) {
            quantizeBlockRef(src, srcOff + ib * QK, y);
            Bits.store(y, dst, dstOff + (long) ib * BLOCK_BYTES);
        }
    }

    /** quantize_row_q4_0_ref for one block: d = max/−8 (max = the signed value of largest magnitude). */
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
        float d = max / -8;
        float id = d != 0 ? 1.0f / d : 0.0f;
        Bits.putF16(y, OFF_D, d);
        for (int j = 0; j < QK / 2; ++j) {
            float x0 = x[xo + j] * id;
            float x1 = x[xo + QK / 2 + j] * id;
            // (int8_t)(x + 8.5f) truncates: round to nearest for the non-negative range used here.
            int xi0 = Math.min(15, Bits.toInt8(x0 + 8.5f)) & 0xFF;
            int xi1 = Math.min(15, Bits.toInt8(x1 + 8.5f)) & 0xFF;
            y[OFF_QS + j] = (byte) (xi0 | xi1 << 4);
        }
    }

    @Override
    public void dequantizeRow(MemorySegment src, long srcOff, float[] dst, int dstOff, int n) {
        int nb = Bits.blocks(GgmlType.Q4_0, n);
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
            y[yo + j] = ((q & 0x0F) - 8) * d;
            y[yo + j + QK / 2] = ((q >>> 4) - 8) * d;
        }
    }
}
