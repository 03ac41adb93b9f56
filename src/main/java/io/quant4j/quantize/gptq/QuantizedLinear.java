package io.quant4j.quantize.gptq;

import io.quant4j.tensor.Fp16;

/**
 * A quantized [rows out × cols in] linear layer before packing: one integer code per weight (row-major, one row
 * per output feature), and per group g and output r an fp16 scale and an integer zero point (true zero, no v1
 * offset): W[r, k] = scale[g(k)·rows + r] · (code[r·cols + k] − zero[g(k)·rows + r]) with g(k) = gIdx[k].
 * Scales and zeros are stored group-major like AutoGPTQ's {@code scales} [groups, out].
 */
public record QuantizedLinear(int rows, int cols, int bits, int groupSize, int groups, byte[] codes, short[] scales,
                              int[] zeros, int[] gIdx) {

    public QuantizedLinear {
        if (codes.length != rows * cols || scales.length != groups * rows || zeros.length != groups * rows || gIdx.length != cols) {
            throw new IllegalArgumentException("inconsistent quantized layer arrays for " + rows + "x" + cols + ", " + groups + " groups");
        }
    }

    public int code(int row, int col) {
        return codes[row * cols + col] & 0xFF;
    }

    public float scale(int group, int row) {
        return Fp16.toFloat(scales[group * rows + row]);
    }

    public int zero(int group, int row) {
        return zeros[group * rows + row];
    }

    public float value(int row, int col) {
        int g = gIdx[col];
        return scale(g, row) * (code(row, col) - zero(g, row));
    }

    /** The dequantized weights, row-major. */
    public float[] dequantize() {
        float[] w = new float[rows * cols];
        for (int r = 0; r < rows; r++) {
            for (int k = 0; k < cols; k++) {
                w[r * cols + k] = value(r, k);
            }
        }
        return w;
    }

    /** The same layer with output row r taken from row {@code from[r]} (q/k between GGUF and HF row orders). */
    public QuantizedLinear permuteRows(int[] from) {
        byte[] c = new byte[codes.length];
        short[] s = new short[scales.length];
        int[] z = new int[zeros.length];
        for (int r = 0; r < rows; r++) {
            System.arraycopy(codes, from[r] * cols, c, r * cols, cols);
            for (int g = 0; g < groups; g++) {
                s[g * rows + r] = scales[g * rows + from[r]];
                z[g * rows + r] = zeros[g * rows + from[r]];
            }
        }
        return new QuantizedLinear(rows, cols, bits, groupSize, groups, c, s, z, gIdx);
    }
}
