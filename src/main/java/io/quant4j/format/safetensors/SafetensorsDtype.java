package io.quant4j.format.safetensors;

import io.quant4j.tensor.GgmlType;

import java.util.Optional;

/**
 * Element types of the safetensors format, declared in the library's order (increasing alignment): the writer
 * sorts tensors by this order, descending, as the reference implementation does, so every tensor stays aligned
 * to its element size.
 */
public enum SafetensorsDtype {
    BOOL(1), U8(1), I8(1), F8_E5M2(1), F8_E4M3(1), I16(2), U16(2), F16(2), BF16(2), I32(4), U32(4), F32(4),
    F64(8), I64(8), U64(8);

    /** Bytes per element. */
    public final int size;

    SafetensorsDtype(int size) {
        this.size = size;
    }

    /** The dtype spelled as in a header ("F32"), or empty for names this reader does not know. */
    public static Optional<SafetensorsDtype> fromName(String name) {
        for (SafetensorsDtype d : values()) {
            if (d.name().equals(name)) {
                return Optional.of(d);
            }
        }
        return Optional.empty();
    }

    /** The float types that {@link io.quant4j.tensor.WeightMatrix} computes with; other dtypes are raw data. */
    public Optional<GgmlType> ggmlType() {
        return switch (this) {
            case F32 -> Optional.of(GgmlType.F32);
            case F16 -> Optional.of(GgmlType.F16);
            case BF16 -> Optional.of(GgmlType.BF16);
            default -> Optional.empty();
        };
    }

    public static SafetensorsDtype of(GgmlType type) {
        return switch (type) {
            case F32 -> F32;
            case F16 -> F16;
            case BF16 -> BF16;
            default -> throw new IllegalArgumentException("ggml type " + type + " has no safetensors dtype");
        };
    }
}
