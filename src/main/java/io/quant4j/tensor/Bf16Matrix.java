package io.quant4j.tensor;

import jdk.incubator.vector.FloatVector;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

import static io.quant4j.tensor.Simd.F;

/** bfloat16 weights: the upper 16 bits of a float, so widening is a shift. */
public final class Bf16Matrix extends WeightMatrix {
    private static final ValueLayout.OfShort I16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    public Bf16Matrix(MemorySegment data, int rows, int cols) {
        super(GgmlType.BF16, data, rows, cols);
    }

    @Override
    public float dot(int row, float[] x, int xOffset) {
        return Simd.ENABLED ? dotVector(data, row * rowBytes, x, xOffset, cols) : dotScalar(data, row * rowBytes, x, xOffset, cols);
    }

    @Override
    public void matVec(float[] x, float[] out, int from, int to) {
        if (!Simd.ENABLED) {
            super.matVec(x, out, from, to);
            return;
        }
        for (int r = from; r < to; r++) {
            out[r] = dotVector(data, r * rowBytes, x, 0, cols);
        }
    }

    static float dotScalar(MemorySegment w, long offset, float[] x, int xOffset, int n) {
        float sum = 0f;
        for (int j = 0; j < n; j++) {
            sum += Fp16.bf16ToFloat(w.get(I16, offset + 2L * j)) * x[xOffset + j];
        }
        return sum;
    }

    static float dotVector(MemorySegment w, long offset, float[] x, int xOffset, int n) {
        FloatVector acc0 = FloatVector.zero(F);
        FloatVector acc1 = FloatVector.zero(F);
        int j = 0;
        for (; j + 16 <= n; j += 16) {
            acc0 = Simd.bf16(w, offset + 2L * j).fma(FloatVector.fromArray(F, x, xOffset + j), acc0);
            acc1 = Simd.bf16(w, offset + 2L * j + 16).fma(FloatVector.fromArray(F, x, xOffset + j + 8), acc1);
        }
        float sum = Simd.sum(acc0.add(acc1));
        for (; j < n; j++) {
            sum += Fp16.bf16ToFloat(w.get(I16, offset + 2L * j)) * x[xOffset + j];
        }
        return sum;
    }

    @Override
    public void dequantizeRange(int row, int fromCol, int count, float[] out, int outOffset) {
        long base = row * rowBytes + 2L * fromCol;
        int j = 0;
        if (Simd.ENABLED) {
            for (; j + 8 <= count; j += 8) {
                Simd.bf16(data, base + 2L * j).intoArray(out, outOffset + j);
            }
        }
        for (; j < count; j++) {
            out[outOffset + j] = Fp16.bf16ToFloat(data.get(I16, base + 2L * j));
        }
    }

    @Override
    public void dequantizeRow(int row, float[] out, int outOffset) {
        dequantizeRange(row, 0, cols, out, outOffset);
    }
}
