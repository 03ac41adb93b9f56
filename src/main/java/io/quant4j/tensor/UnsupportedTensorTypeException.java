package io.quant4j.tensor;

/** A tensor type that quant4j can name but cannot compute with (yet). */
public class UnsupportedTensorTypeException extends RuntimeException {
    private final GgmlType type;

    public UnsupportedTensorTypeException(GgmlType type) {
        super("tensor type " + type + " is not supported for computation");
        this.type = type;
    }

    public GgmlType type() {
        return type;
    }
}
