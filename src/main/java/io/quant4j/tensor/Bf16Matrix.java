package io.quant4j.tensor;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/** bfloat16 weights (scalar for now; the fast kernel belongs to the engine issue). */
public final class Bf16Matrix extends WeightMatrix {
    private static final ValueLayout.OfShort I16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    public Bf16Matrix(MemorySegment data, int rows, int cols) {
        super(GgmlType.BF16, data, rows, cols);
    }

    @Override
    public float dot(int row, float[] x, int xOffset) {
        long base = row * rowBytes;
        float sum = 0f;
        for (int j = 0; j < cols; j++) {
            sum += Fp16.bf16ToFloat(data.get(I16, base + 2L * j)) * x[xOffset + j];
        }
        return sum;
    }

    @Override
    public void dequantizeRow(int row, float[] out, int outOffset) {
        long base = row * rowBytes;
        for (int j = 0; j < cols; j++) {
            out[outOffset + j] = Fp16.bf16ToFloat(data.get(I16, base + 2L * j));
        }
    }
}
