package io.quant4j.tensor.quant;

import io.quant4j.tensor.GgmlType;

import java.lang.foreign.MemorySegment;

/** Q8_0: blocks of 32 as {@code half d; i8 qs[32]}, x ≈ d·q with d = amax/127. */
public final class Q8_0 implements RowCodec {
    public static final int QK = 32;
    public static final int BLOCK_BYTES = 34;
    static final int OFF_D = 0;
    static final int OFF_QS = 2;

    public static final Q8_0 INSTANCE = new Q8_0();

    private Q8_0() {
    }

    @Override
    public GgmlType type() {
        return GgmlType.Q8_0;
    }

    /** llama.cpp's quantize_q8_0 ignores the imatrix, and so does this. */
    @Override
    public void quantizeRow(float[] src, int srcOff, int n, MemorySegment dst, long dstOff, float[] importance) {
        QuantizeKernels.quantizeRowQ8_0(src, srcOff, Bits.blocks(GgmlType.Q8_0, n), dst, dstOff);
    }

    /** quantize_row_q8_0_ref block by block, the reference {@link QuantizeKernels#quantizeRowQ8_0} is tested against. */
    static void quantizeRowScalar(float[] src, int srcOff, int n, MemorySegment dst, long dstOff) {
        int nb = Bits.blocks(GgmlType.Q8_0, n);
        byte[] y = new byte[BLOCK_BYTES];
        for (int ib = 0; ib < nb; ib++) {
            quantizeBlockRef(src, srcOff + ib * QK, y);
            Bits.store(y, dst, dstOff + (long) ib * BLOCK_BYTES);
        }
    }

    static void quantizeBlockRef(float[] x, int xo, byte[] y) {
        float amax = 0.0f;
        for (int j = 0; j < QK; j++) {
            float a = Math.abs(x[xo + j]);
            amax = amax > a ? amax : a;
        }
        float d = amax / ((1 << 7) - 1);
        float id = d != 0 ? 1.0f / d : 0.0f;
        Bits.putF16(y, OFF_D, d);
        for (int j = 0; j < QK; ++j) {
            // roundf: half away from zero, unlike the k-quants' nearest_int.
            y[OFF_QS + j] = (byte) (int) Bits.roundf(x[xo + j] * id);
        }
    }

    @Override
    public void dequantizeRow(MemorySegment src, long srcOff, float[] dst, int dstOff, int n) {
        int nb = Bits.blocks(GgmlType.Q8_0, n);
        byte[] b = new byte[BLOCK_BYTES];
        for (int ib = 0; ib < nb; ib++) {
            Bits.load(src, srcOff + (long) ib * BLOCK_BYTES, b);
            dequantizeBlock(b, dst, dstOff + ib * QK);
        }
    }

    static void dequantizeBlock(byte[] b, float[] y, int yo) {
        float d = Bits.getF16(b, OFF_D);
        for (int j = 0; j < QK; ++j) {
            y[yo + j] = b[OFF_QS + j] * d;
        }
    }
}
