package io.quant4j.tensor;


import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/** IEEE half weights. */
public final class F16Matrix extends WeightMatrix {
    private static final ValueLayout.OfShort I16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    public F16Matrix(MemorySegment data, int rows, int cols) {
        super(GgmlType.F16, data, rows, cols);
    }

    @Override
    public float dot(int row, float[] x, int xOffset) {
        return dotVector(data, row * rowBytes, x, xOffset, cols);
    }

    static float dotScalar(MemorySegment w, long offset, float[] x, int xOffset, int n) {
        float sum = 0f;
        for (int j = 0; j < n; j++) {
            sum += Float.float16ToFloat(w.get(I16, offset + 2L * j)) * x[xOffset + j];
        }
        return sum;
    }

    /** Converts a chunk to floats, then an F32 Vector API dot; the engine issue replaces this with a fused kernel. */
    static float dotVector(MemorySegment w, long offset, float[] x, int xOffset, int n) {
        float[] buf = BUF.get();
        float sum = 0f;
        for (int j = 0; j < n; j += buf.length) {
            int len = Math.min(buf.length, n - j);
            for (int i = 0; i < len; i++) {
                buf[i] = Float.float16ToFloat(w.get(I16, offset + 2L * (j + i)));
            }
            sum += VectorKernels.dot(buf, 0, x, xOffset + j, len);
        }
        return sum;
    }

    private static final ThreadLocal<float[]> BUF = ThreadLocal.withInitial(() -> new float[1024]);

    @Override
    public void dequantizeRow(int row, float[] out, int outOffset) {
        long base = row * rowBytes;
        for (int j = 0; j < cols; j++) {
            out[outOffset + j] = Float.float16ToFloat(data.get(I16, base + 2L * j));
        }
    }
}
