package io.quant4j.tensor.quant;

import io.quant4j.tensor.Fp16;
import io.quant4j.tensor.GgmlType;

import java.lang.foreign.MemorySegment;

/** bfloat16 rows, rounded as ggml_fp32_to_bf16_row_ref (nearest even, NaN kept quiet). */
public final class BF16 implements RowCodec {
    public static final BF16 INSTANCE = new BF16();

    private BF16() {
    }

    @Override
    public GgmlType type() {
        return GgmlType.BF16;
    }

    @Override
    public void quantizeRow(float[] src, int srcOff, int n, MemorySegment dst, long dstOff, float[] importance) {
        for (int j = 0; j < n; j++) {
            dst.set(Bits.I16, dstOff + 2L * j, Fp16.floatToBf16(src[srcOff + j]));
        }
    }

    @Override
    public void dequantizeRow(MemorySegment src, long srcOff, float[] dst, int dstOff, int n) {
        for (int j = 0; j < n; j++) {
            dst[dstOff + j] = Fp16.bf16ToFloat(src.get(Bits.I16, srcOff + 2L * j));
        }
    }
}
