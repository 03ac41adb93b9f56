package io.quant4j.format.gguf;

import io.quant4j.tensor.GgmlType;

import java.util.Arrays;

/**
 * One tensor of a GGUF file. {@code shape} is in ggml order: shape[0] is the contiguous row length
 * (a PyTorch [out, in] weight is stored as [in, out]). {@code offset} is absolute in the file.
 */
public record GgufTensorInfo(String name, long[] shape, GgmlType type, long offset, long byteSize) {

    public long elementCount() {
        long n = 1;
        for (long d : shape) {
            n *= d;
        }
        return n;
    }

    public long rowLength() {
        return shape[0];
    }

    public long rowCount() {
        return elementCount() / shape[0];
    }

    public String shapeString() {
        return Arrays.toString(shape);
    }
}
