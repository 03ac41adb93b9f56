package io.quant4j.model;

/** One row of the tensor table that {@code inspect} prints: name as stored, shape in file order, type, bytes. */
public record TensorEntry(String name, long[] shape, String type, long bytes) {
}
