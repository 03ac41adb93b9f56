package io.quant4j.tensor.quant;

import io.quant4j.tensor.GgmlType;
import io.quant4j.tensor.UnsupportedTensorTypeException;
import io.quant4j.tensor.WeightMatrix;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * A weight matrix in one of ggml's block formats (Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, Q2_K..Q6_K, IQ4_NL), read in
 * place from its segment. {@link #dotScalar} is the reference: dequantize a block exactly as llama.cpp's
 * dequantize_row_* does, then a float dot with the activations. Q8_0 and Q4_0 {@link #dot} use the Vector
 * API kernels in {@link QuantKernels}; the other types use the scalar reference until their kernels exist.
 */
public final class QuantizedMatrix extends WeightMatrix {
    /** Dequantizes one block held in {@code block} into {@code out[off .. off+blockSize)}. */
    @FunctionalInterface
    interface BlockDecoder {
        void decode(byte[] block, float[] out, int off);
    }

    private final BlockDecoder decoder;

    public QuantizedMatrix(GgmlType type, MemorySegment data, int rows, int cols) {
        super(type, data, rows, cols);
        this.decoder = decoder(type);
    }

    static BlockDecoder decoder(GgmlType type) {
        return switch (type) {
            case Q4_0 -> Q4_0::dequantizeBlock;
            case Q4_1 -> Q4_1::dequantizeBlock;
            case Q5_0 -> Q5_0::dequantizeBlock;
            case Q5_1 -> Q5_1::dequantizeBlock;
            case Q8_0 -> Q8_0::dequantizeBlock;
            case Q2_K -> Q2_K::dequantizeBlock;
            case Q3_K -> Q3_K::dequantizeBlock;
            case Q4_K -> Q4_K::dequantizeBlock;
            case Q5_K -> Q5_K::dequantizeBlock;
            case Q6_K -> Q6_K::dequantizeBlock;
            case IQ4_NL -> IQ4_NL::dequantizeBlock;
            default -> throw new UnsupportedTensorTypeException(type);
        };
    }

    @Override
    public float dot(int row, float[] x, int xOffset) {
        long base = row * rowBytes;
        return switch (type) {
            case Q8_0 -> QuantKernels.dotQ8_0(data, base, x, xOffset, cols);
            case Q4_0 -> QuantKernels.dotQ4_0(data, base, x, xOffset, cols);
            default -> dotScalar(row, x, xOffset);
        };
    }

    /** Scalar reference: each block dequantized as llama.cpp does, then Σ w·x in float, in element order. */
    public float dotScalar(int row, float[] x, int xOffset) {
        int bs = type.blockSize;
        byte[] block = new byte[type.bytesPerBlock];
        float[] w = new float[bs];
        long base = row * rowBytes;
        float sum = 0f;
        for (int b = 0; b < cols / bs; b++) {
            MemorySegment.copy(data, ValueLayout.JAVA_BYTE, base + (long) b * block.length, block, 0, block.length);
            decoder.decode(block, w, 0);
            int xo = xOffset + b * bs;
            for (int j = 0; j < bs; j++) {
                sum += w[j] * x[xo + j];
            }
        }
        return sum;
    }

    @Override
    public void dequantizeRow(int row, float[] out, int outOffset) {
        byte[] block = new byte[type.bytesPerBlock];
        long base = row * rowBytes;
        int bs = type.blockSize;
        for (int b = 0; b < cols / bs; b++) {
            MemorySegment.copy(data, ValueLayout.JAVA_BYTE, base + (long) b * block.length, block, 0, block.length);
            decoder.decode(block, out, outOffset + b * bs);
        }
    }
}
