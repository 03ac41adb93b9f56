package io.quant4j.tensor;

import jdk.incubator.vector.FloatVector;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

import static io.quant4j.tensor.Simd.F;

/** IEEE half weights, converted to floats a chunk at a time by a loop C2 vectorizes (see {@link #dotVector}). */
public final class F16Matrix extends WeightMatrix {
    private static final ValueLayout.OfShort I16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    public F16Matrix(MemorySegment data, int rows, int cols) {
        super(GgmlType.F16, data, rows, cols);
    }

    private static final ThreadLocal<float[]> ROW_BUFFER = ThreadLocal.withInitial(() -> new float[0]);

    private float[] rowBuffer() {
        float[] buf = ROW_BUFFER.get();
        if (buf.length < cols) {
            buf = new float[cols];
            ROW_BUFFER.set(buf);
        }
        return buf;
    }

    @Override
    public float dot(int row, float[] x, int xOffset) {
        return Simd.ENABLED ? dotVector(data, row * rowBytes, x, xOffset, cols, rowBuffer())
                : dotScalar(data, row * rowBytes, x, xOffset, cols);
    }

    @Override
    public void matVec(float[] x, float[] out, int from, int to) {
        if (!Simd.ENABLED) {
            super.matVec(x, out, from, to);
            return;
        }
        float[] buf = rowBuffer();
        for (int r = from; r < to; r++) {
            out[r] = dotVector(data, r * rowBytes, x, 0, cols, buf);
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
     * The Vector API has no half-to-float lane conversion, and emulating it costs five lane ops per 8 values; C2
     * does vectorize a plain {@code Float.float16ToFloat} loop into vcvtph2ps (exact, infinities and NaNs included).
     * So the row is converted by such a loop into {@code buf}, then multiplied in float lanes. (Converting in
     * L1-sized chunks instead measured a third slower: C2 compiles the chunked loops less well.)
     */
    static float dotVector(MemorySegment w, long offset, float[] x, int xOffset, int n, float[] buf) {
        for (int j = 0; j < n; j++) {
            buf[j] = Float.float16ToFloat(w.get(I16, offset + 2L * j));
        }
        FloatVector acc0 = FloatVector.zero(F);
        FloatVector acc1 = FloatVector.zero(F);
        int j = 0;
        for (; j + 16 <= n; j += 16) {
            acc0 = FloatVector.fromArray(F, buf, j).fma(FloatVector.fromArray(F, x, xOffset + j), acc0);
            acc1 = FloatVector.fromArray(F, buf, j + 8).fma(FloatVector.fromArray(F, x, xOffset + j + 8), acc1);
        }
        float sum = Simd.sum(acc0.add(acc1));
        for (; j < n; j++) {
            sum += buf[j] * x[xOffset + j];
        }
        return sum;
    }

    @Override
    public void dequantizeRange(int row, int fromCol, int count, float[] out, int outOffset) {
        long base = row * rowBytes + 2L * fromCol;
        for (int j = 0; j < count; j++) { // vectorized by C2 (vcvtph2ps), as in dotVector
            out[outOffset + j] = Float.float16ToFloat(data.get(I16, base + 2L * j));
        }
    }

    @Override
    public void dequantizeRow(int row, float[] out, int outOffset) {
        dequantizeRange(row, 0, cols, out, outOffset);
    }
}
