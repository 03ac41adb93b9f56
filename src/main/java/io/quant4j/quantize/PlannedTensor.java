package io.quant4j.quantize;

import io.quant4j.tensor.GgmlType;

/** One tensor of the output file: its source type, its target type, and whether a fallback was needed. */
public record PlannedTensor(String name, long[] shape, GgmlType sourceType, GgmlType targetType, boolean fallback) {

    public boolean converts() {
        return sourceType != targetType;
    }

    public long elementCount() {
        long n = 1;
        for (long d : shape) {
            n *= d;
        }
        return n;
    }
}
