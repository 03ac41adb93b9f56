package io.quant4j.tensor;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/** F32 weights. */
public final class F32Matrix extends WeightMatrix {
    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;

    public F32Matrix(MemorySegment data, int rows, int cols) {
        super(GgmlType.F32, data, rows, cols);
    }

    @Override
    public float dot(int row, float[] x, int xOffset) {
        return dotVector(data, row * rowBytes, x, xOffset, cols);
    }

    /** Scalar reference. */
    static float dotScalar(MemorySegment w, long offset, float[] x, int xOffset, int n) {
        float sum = 0f;
        for (int j = 0; j < n; j++) {
            sum += w.get(F32, offset + 4L * j) * x[xOffset + j];
        }
        return sum;
    }

    static float dotVector(MemorySegment w, long offset, float[] x, int xOffset, int n) {
        FloatVector acc = FloatVector.zero(S);
        int j = 0;
        int upper = S.loopBound(n);
        for (; j < upper; j += S.length()) {
            FloatVector wv = FloatVector.fromMemorySegment(S, w, offset + 4L * j, ByteOrder.LITTLE_ENDIAN);
            acc = wv.fma(FloatVector.fromArray(S, x, xOffset + j), acc);
        }
        float sum = acc.reduceLanes(VectorOperators.ADD);
        for (; j < n; j++) {
            sum += w.get(F32, offset + 4L * j) * x[xOffset + j];
        }
        return sum;
    }

    @Override
    public void dequantizeRow(int row, float[] out, int outOffset) {
        MemorySegment.copy(data, F32, row * rowBytes, out, outOffset, cols);
    }
}
