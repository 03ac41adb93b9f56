package io.quant4j.format.gguf;

/** GGUF metadata value types (gguf.md), with the minimum bytes one value occupies on disk. */
public enum GgufValueType {
    UINT8(1), INT8(1), UINT16(2), INT16(2), UINT32(4), INT32(4), FLOAT32(4), BOOL(1), STRING(8), ARRAY(12),
    UINT64(8), INT64(8), FLOAT64(8);

    /** Fixed size for scalars; the minimum size (length prefix) for strings and arrays. */
    public final int minBytes;

    GgufValueType(int minBytes) {
        this.minBytes = minBytes;
    }

    public static GgufValueType fromId(int id) {
        GgufValueType[] all = values();
        return id >= 0 && id < all.length ? all[id] : null;
    }

    public int id() {
        return ordinal();
    }
}
