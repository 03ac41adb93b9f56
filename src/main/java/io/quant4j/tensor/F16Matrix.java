package io.quant4j.tensor;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

import static io.quant4j.tensor.Simd.F;

/** IEEE half weights, converted to floats in registers ({@link Simd#halfToFloat}). */
public final class F16Matrix extends WeightMatrix {
    private static final ValueLayout.OfShort I16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    public F16Matrix(MemorySegment data, int rows, int cols) {
        super(GgmlType.F16, data, rows, cols);
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

    /** Scalar reference: Float.float16ToFloat per value. */
    static float dotScalar(MemorySegment w, long offset, float[] x, int xOffset, int n) {
        float sum = 0f;
        for (int j = 0; j < n; j++) {
            sum += Float.float16ToFloat(w.get(I16, offset + 2L * j)) * x[xOffset + j];
        }
        return sum;
    }

    /**
     * Halves are converted without the special-value test of {@link Simd#halfToFloat}; instead the kernel keeps the
     * largest |h| bit pattern seen (two cheap lane ops per 8 values) and, if the row holds an infinity or NaN
     * (exponent 31), computes it again through the exact conversion. About a fifth faster on decode.
     */
    static float dotVector(MemorySegment w, long offset, float[] x, int xOffset, int n) {
        FloatVector acc0 = FloatVector.zero(F);
        FloatVector acc1 = FloatVector.zero(F);
        IntVector top = IntVector.zero(Simd.I);
        int j = 0;
        for (; j + 16 <= n; j += 16) {
            IntVector h0 = Simd.s16(w, offset + 2L * j);
            IntVector h1 = Simd.s16(w, offset + 2L * j + 16);
            top = top.max(h0.and(0x7FFF)).max(h1.and(0x7FFF));
            acc0 = Simd.finiteHalfToFloat(h0).fma(FloatVector.fromArray(F, x, xOffset + j), acc0);
            acc1 = Simd.finiteHalfToFloat(h1).fma(FloatVector.fromArray(F, x, xOffset + j + 8), acc1);
        }
        if (top.reduceLanes(VectorOperators.MAX) >= 0x7C00) {
            return dotExact(w, offset, x, xOffset, n);
        }
        float sum = Simd.sum(acc0.add(acc1));
        for (; j < n; j++) {
            sum += Float.float16ToFloat(w.get(I16, offset + 2L * j)) * x[xOffset + j];
        }
        return sum;
    }

    /** The same with the exact conversion of every vector (infinities and NaNs propagate as in the reference). */
    static float dotExact(MemorySegment w, long offset, float[] x, int xOffset, int n) {
        FloatVector acc0 = FloatVector.zero(F);
        FloatVector acc1 = FloatVector.zero(F);
        int j = 0;
        for (; j + 16 <= n; j += 16) {
            acc0 = Simd.f16(w, offset + 2L * j).fma(FloatVector.fromArray(F, x, xOffset + j), acc0);
            acc1 = Simd.f16(w, offset + 2L * j + 16).fma(FloatVector.fromArray(F, x, xOffset + j + 8), acc1);
        }
        float sum = Simd.sum(acc0.add(acc1));
        for (; j < n; j++) {
            sum += Float.float16ToFloat(w.get(I16, offset + 2L * j)) * x[xOffset + j];
        }
        return sum;
    }

    @Override
    public void dequantizeRange(int row, int fromCol, int count, float[] out, int outOffset) {
        long base = row * rowBytes + 2L * fromCol;
        int j = 0;
        if (Simd.ENABLED) {
            IntVector top = IntVector.zero(Simd.I);
            for (; j + 8 <= count; j += 8) {
                IntVector h = Simd.s16(data, base + 2L * j);
                top = top.max(h.and(0x7FFF));
                Simd.finiteHalfToFloat(h).intoArray(out, outOffset + j);
            }
            if (top.reduceLanes(VectorOperators.MAX) >= 0x7C00) { // an inf or NaN: redo exactly (see dotVector)
                for (int k = 0; k + 8 <= count; k += 8) {
                    Simd.f16(data, base + 2L * k).intoArray(out, outOffset + k);
                }
            }
        }
        for (; j < count; j++) {
            out[outOffset + j] = Float.float16ToFloat(data.get(I16, base + 2L * j));
        }
    }

    @Override
    public void dequantizeRow(int row, float[] out, int outOffset) {
        dequantizeRange(row, 0, cols, out, outOffset);
    }
}
