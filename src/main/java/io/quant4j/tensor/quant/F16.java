package io.quant4j.tensor.quant;

import io.quant4j.tensor.GgmlType;

import java.lang.foreign.MemorySegment;

/** IEEE half rows, rounded to nearest even as ggml_fp32_to_fp16_row does. */
public final class F16 implements RowCodec {
    public static final F16 INSTANCE = new F16();

    private F16() {
    }

    @Override
    public GgmlType type() {
        return GgmlType.F16;
    }

    @Override
    public void quantizeRow(float[] src, int srcOff, int n, MemorySegment dst, long dstOff, float[] importance) {
        for (int j = 0; j < n; j++) {
            dst.set(Bits.I16, dstOff + 2L * j, Bits.fp16(src[srcOff + j]));
        }
    }

    @Override
    public void dequantizeRow(MemorySegment src, long srcOff, float[] dst, int dstOff, int n) {
        QuantizeKernels.f16ToF32(src, srcOff, dst, dstOff, n);
    }

    /** Element by element with {@link Float#float16ToFloat}: the reference for {@link QuantizeKernels#f16ToF32}. */
    static void dequantizeRowScalar(MemorySegment src, long srcOff, float[] dst, int dstOff, int n) {
        for (int j = 0; j < n; j++) {
            dst[dstOff + j] = Float.float16ToFloat(src.get(Bits.I16, srcOff + 2L * j));
        }
    }
}
