package io.quant4j.peft;

/** A 2-D (or, with one row, 1-D) float tensor of an adapter file, rows in Hugging Face order. */
public record AdapterTensor(int rows, int cols, float[] values) {
    public AdapterTensor {
        if ((long) rows * cols != values.length) {
            throw new IllegalArgumentException(rows + "x" + cols + " tensor with " + values.length + " values");
        }
    }

    public float get(int r, int c) {
        return values[r * cols + c];
    }
}
