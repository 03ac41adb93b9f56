package io.quant4j.tensor;

import jdk.incubator.vector.FloatVector;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

import static io.quant4j.tensor.Simd.F;
import static io.quant4j.tensor.Simd.LE;

/** F32 weights. */
public final class F32Matrix extends WeightMatrix {
    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    public F32Matrix(MemorySegment data, int rows, int cols) {
        super(GgmlType.F32, data, rows, cols);
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

    /** Scalar reference. */
    static float dotScalar(MemorySegment w, long offset, float[] x, int xOffset, int n) {
        float sum = 0f;
        for (int j = 0; j < n; j++) {
            sum += w.get(F32, offset + 4L * j) * x[xOffset + j];
        }
        return sum;
    }

    /** Two accumulators so consecutive FMAs do not wait on each other. */
    static float dotVector(MemorySegment w, long offset, float[] x, int xOffset, int n) {
        FloatVector acc0 = FloatVector.zero(F);
        FloatVector acc1 = FloatVector.zero(F);
        int j = 0;
        for (; j + 16 <= n; j += 16) {
            acc0 = FloatVector.fromMemorySegment(F, w, offset + 4L * j, LE).fma(FloatVector.fromArray(F, x, xOffset + j), acc0);
            acc1 = FloatVector.fromMemorySegment(F, w, offset + 4L * j + 32, LE).fma(FloatVector.fromArray(F, x, xOffset + j + 8), acc1);
        }
        float sum = Simd.sum(acc0.add(acc1));
        for (; j < n; j++) {
            sum += w.get(F32, offset + 4L * j) * x[xOffset + j];
        }
        return sum;
    }

    @Override
    public void dequantizeRow(int row, float[] out, int outOffset) {
        MemorySegment.copy(data, F32, row * rowBytes, out, outOffset, cols);
    }

    @Override
    public void dequantizeRange(int row, int fromCol, int count, float[] out, int outOffset) {
        MemorySegment.copy(data, F32, row * rowBytes + 4L * fromCol, out, outOffset, count);
    }
}
