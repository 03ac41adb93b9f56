package io.quant4j.format.gguf;

import java.util.List;

/**
 * One metadata value as stored: its GGUF type and the Java value. Scalars are boxed (UINT8..INT32 as
 * Integer, UINT32/UINT64/INT64 as Long, FLOAT32 as Float, FLOAT64 as Double, BOOL as Boolean, STRING as
 * String). Arrays keep their element type; their value is an int[], long[], float[], double[], boolean[],
 * String[] or, for nested arrays, a {@code List<GgufValue>}.
 */
public record GgufValue(GgufValueType type, GgufValueType elementType, Object value) {

    public static GgufValue of(GgufValueType type, Object value) {
        return new GgufValue(type, null, value);
    }

    public static GgufValue array(GgufValueType elementType, Object elements) {
        return new GgufValue(GgufValueType.ARRAY, elementType, elements);
    }

    public int arrayLength() {
        return switch (value) {
            case int[] a -> a.length;
            case long[] a -> a.length;
            case float[] a -> a.length;
            case double[] a -> a.length;
            case boolean[] a -> a.length;
            case String[] a -> a.length;
            case List<?> l -> l.size();
            default -> -1;
        };
    }

    @Override
    public String toString() {
        if (type != GgufValueType.ARRAY) {
            return type == GgufValueType.STRING ? "\"" + value + "\"" : String.valueOf(value);
        }
        return "[" + elementType.name().toLowerCase() + " x " + arrayLength() + "]";
    }
}
