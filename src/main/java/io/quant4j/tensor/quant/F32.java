package io.quant4j.tensor.quant;

import io.quant4j.tensor.GgmlType;

import java.lang.foreign.MemorySegment;

/** F32 rows: a little-endian copy. */
public final class F32 implements RowCodec {
    public static final F32 INSTANCE = new F32();

    private F32() {
    }

    @Override
    public GgmlType type() {
        return GgmlType.F32;
    }

    @Override
    public void quantizeRow(float[] src, int srcOff, int n, MemorySegment dst, long dstOff, float[] importance) {
        MemorySegment.copy(src, srcOff, dst, Bits.F32, dstOff, n);
    }

    @Override
    public void dequantizeRow(MemorySegment src, long srcOff, float[] dst, int dstOff, int n) {
        MemorySegment.copy(src, Bits.F32, srcOff, dst, dstOff, n);
    }
}
