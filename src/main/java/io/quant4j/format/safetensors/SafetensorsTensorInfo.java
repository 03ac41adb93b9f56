package io.quant4j.format.safetensors;

import java.util.Arrays;

/**
 * One tensor of a safetensors file. {@code shape} is in PyTorch order (the last dimension is contiguous, so a
 * Linear weight is [out, in]). {@code offset} is absolute in the file.
 */
public record SafetensorsTensorInfo(String name, SafetensorsDtype dtype, long[] shape, long offset, long byteSize) {

    public long elementCount() {
        long n = 1;
        for (long d : shape) {
            n *= d;
        }
        return n;
    }

    public String shapeString() {
        return Arrays.toString(shape);
    }
}
