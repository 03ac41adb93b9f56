package io.quant4j.tensor.quant;

import io.quant4j.tensor.GgmlType;
import io.quant4j.tensor.UnsupportedTensorTypeException;

import java.lang.foreign.MemorySegment;

/** The {@link RowCodec} of each ggml type quant4j can write and read. */
public final class RowCodecs {
    private RowCodecs() {
    }

    /** @throws UnsupportedTensorTypeException for types without a codec (IQ2_XXS, Q8_1, ...) */
    public static RowCodec forType(GgmlType type) {
        return switch (type) {
            case F32 -> F32.INSTANCE;
            case F16 -> F16.INSTANCE;
            case BF16 -> BF16.INSTANCE;
            case Q4_0 -> Q4_0.INSTANCE;
            case Q4_1 -> Q4_1.INSTANCE;
            case Q5_0 -> Q5_0.INSTANCE;
            case Q5_1 -> Q5_1.INSTANCE;
            case Q8_0 -> Q8_0.INSTANCE;
            case Q2_K -> Q2_K.INSTANCE;
            case Q3_K -> Q3_K.INSTANCE;
            case Q4_K -> Q4_K.INSTANCE;
            case Q5_K -> Q5_K.INSTANCE;
            case Q6_K -> Q6_K.INSTANCE;
            case Q8_K -> Q8_K.INSTANCE;
            case IQ4_NL -> IQ4_NL.INSTANCE;
            default -> throw new UnsupportedTensorTypeException(type);
        };
    }

    public static boolean isSupported(GgmlType type) {
        try {
            forType(type);
            return true;
        } catch (UnsupportedTensorTypeException e) {
            return false;
        }
    }

    /**
     * Quantizes {@code rows} rows of {@code cols} floats (row-major in {@code src}) into {@code dst}, as
     * ggml_quantize_chunk does: rows independent, each taking {@code type.byteSize(cols)} bytes.
     *
     * @param importance imatrix weights per column (length ≥ cols), shared by all rows, or null
     */
    public static void quantizeRows(GgmlType type, float[] src, int rows, int cols, MemorySegment dst, float[] importance) {
        RowCodec codec = forType(type);
        long rowBytes = type.byteSize(cols);
        for (int r = 0; r < rows; r++) {
            codec.quantizeRow(src, r * cols, cols, dst, r * rowBytes, importance);
        }
    }
}
