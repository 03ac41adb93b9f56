package io.quant4j.tensor.quant;

import io.quant4j.tensor.GgmlType;

import java.lang.foreign.MemorySegment;

/**
 * Converts one row of floats to and from one ggml type, bit-compatible with llama.cpp's reference
 * functions ({@code quantize_row_*_ref}, {@code quantize_*} with imatrix, {@code dequantize_row_*}).
 * {@code n} must be a multiple of the type's block size; a row of {@code n} values takes
 * {@code type().byteSize(n)} bytes.
 */
public interface RowCodec {
    GgmlType type();

    /**
     * Quantizes {@code src[srcOff .. srcOff+n)} into {@code dst} at {@code dstOff}.
     *
     * @param importance llama.cpp imatrix weights for this row's columns (length ≥ n), or null for the plain
     *                   reference quantizer; types that ignore it in llama.cpp (Q8_0, F16, ...) ignore it here
     */
    void quantizeRow(float[] src, int srcOff, int n, MemorySegment dst, long dstOff, float[] importance);

    /** Writes the {@code n} values stored at {@code src[srcOff..]} into {@code dst[dstOff..]}. */
    void dequantizeRow(MemorySegment src, long srcOff, float[] dst, int dstOff, int n);

    /** Bytes taken by a row of {@code n} values. */
    default long rowBytes(int n) {
        return type().byteSize(n);
    }
}
