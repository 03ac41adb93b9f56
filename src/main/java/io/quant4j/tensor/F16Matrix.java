package io.quant4j.tensor;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

import static io.quant4j.tensor.Simd.F;

/**
 * IEEE half weights. Decode converts them in registers ({@link Simd#finiteHalfToFloat}); prefill panels are
 * converted by a plain loop that C2 vectorizes into vcvtph2ps. (That loop also made a decode kernel: a third faster
 * on cache-resident rows, but slower in the model, where F16 decode streams 2 GB per token from memory and the
 * extra pass through a row buffer costs more than the conversion saves: TinyLlama tg32 5.4 against 6.3 t/s.)
 */
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
        for (int j = 0; j < count; j++) { // vectorized by C2 (vcvtph2ps)
            out[outOffset + j] = Float.float16ToFloat(data.get(I16, base + 2L * j));
        }
    }

    @Override
    public void dequantizeRow(int row, float[] out, int outOffset) {
        dequantizeRange(row, 0, cols, out, outOffset);
    }
}
