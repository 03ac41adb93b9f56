package io.quant4j.tensor;

import io.quant4j.tensor.quant.QuantizedMatrix;

import java.lang.foreign.MemorySegment;

/**
 * A 2-D weight of {@code rows} × {@code cols} values in one ggml type, rows contiguous (PyTorch's
 * [out, in] layout: one row per output feature). Implementations read straight from a (usually mapped)
 * segment. {@link #dot} is the kernel every matrix-vector product is built from; {@link #dequantizeRow}
 * gives one row as floats (embedding lookup, training, conversion).
 *
 * <p>Matrices stored in a layout outside ggml (GPTQ's packed columns, bitsandbytes blocks) use the second
 * constructor: their {@link #type()} is null and {@link #format()} names the layout; they hold their own segments.
 */
public abstract class WeightMatrix {
    protected final GgmlType type;
    protected final MemorySegment data;
    protected final int rows;
    protected final int cols;
    protected final long rowBytes;
    private final String format;

    protected WeightMatrix(GgmlType type, MemorySegment data, int rows, int cols) {
        if (cols % type.blockSize != 0) {
            throw new IllegalArgumentException(type + " row length " + cols + " is not a multiple of " + type.blockSize);
        }
        this.type = type;
        this.format = null;
        this.data = data;
        this.rows = rows;
        this.cols = cols;
        this.rowBytes = type.byteSize(cols);
        if (rows < 0 || data.byteSize() < Math.multiplyExact(rowBytes, (long) rows)) {
            throw new IllegalArgumentException(type + " " + rows + "x" + cols + " needs " + rowBytes * rows + " bytes, segment has " + data.byteSize());
        }
    }

    /**
     * Outside-ggml layouts: the values are rows × cols of {@code format}, read from segments the subclass holds.
     */
    protected WeightMatrix(String format, int rows, int cols) {
        if (rows < 0 || cols < 0) {
            throw new IllegalArgumentException(format + " matrix " + rows + "x" + cols + " has a negative size");
        }
        this.type = null;
        this.format = format;
        this.data = MemorySegment.NULL;
        this.rows = rows;
        this.cols = cols;
        this.rowBytes = 0;
    }

    /** The type, layout and shape of {@code like}: for wrappers that compute on top of another matrix (ggml or not). */
    protected WeightMatrix(WeightMatrix like) {
        this.type = like.type;
        this.format = like.format;
        this.data = like.data;
        this.rows = like.rows;
        this.cols = like.cols;
        this.rowBytes = like.rowBytes;
    }

    /** The ggml type, or null for a layout outside ggml (see {@link #format()}). */
    public GgmlType type() {
        return type;
    }

    /** The storage layout's name: the ggml type's name, or e.g. "GPTQ 4-bit g128". */
    public String format() {
        return format != null ? format : type.name();
    }

    public int rows() {
        return rows;
    }

    public int cols() {
        return cols;
    }

    public MemorySegment data() {
        return data;
    }

    public long rowBytes() {
        return rowBytes;
    }

    /**
     * Bytes the weights occupy (what one pass over the matrix reads): rows × row size for ggml types; layouts outside
     * ggml, whose {@link #rowBytes()} is 0, count their own tensors.
     */
    public long storageBytes() {
        return rowBytes * rows;
    }

    /** Σ_j W[row, j] · x[xOffset + j] over the whole row. */
    public abstract float dot(int row, float[] x, int xOffset);

    /** Writes row {@code row} as {@code cols} floats into {@code out} at {@code outOffset}. */
    public abstract void dequantizeRow(int row, float[] out, int outOffset);

    /** out[r] = W[r,:] · x for rows [from, to). Subclasses loop over their static kernel here. */
    public void matVec(float[] x, float[] out, int from, int to) {
        for (int r = from; r < to; r++) {
            out[r] = dot(r, x, 0);
        }
    }

    /**
     * {@link #matVec} for one part of a product whose other parts run on other threads with the same input:
     * {@code inputVersion} (non-zero, new for every product, see {@link Parallel#matVec}) promises that {@code x}
     * does not change between calls that carry it, so work done on the input (int8 quantization) can be shared
     * between the parts a thread runs.
     */
    public void matVec(float[] x, float[] out, int from, int to, int inputVersion) {
        matVec(x, out, from, to);
    }

    /**
     * Writes columns [fromCol, fromCol + count) of row {@code row} as floats into {@code out[outOffset..]};
     * {@code fromCol} and {@code count} are multiples of the block size (or reach the row's end). This default
     * dequantizes the whole row; the built-in types read only the range.
     */
    public void dequantizeRange(int row, int fromCol, int count, float[] out, int outOffset) {
        if (fromCol == 0 && count == cols) {
            dequantizeRow(row, out, outOffset);
            return;
        }
        float[] tmp = new float[cols];
        dequantizeRow(row, tmp, 0);
        System.arraycopy(tmp, fromCol, out, outOffset, count);
    }

    /**
     * Batched product for {@code n} tokens: out[t·outStride + r] = W[r,:] · x[t·cols ..] for rows [from, to).
     * Each weight value is read and converted once per call ({@link Gemm}).
     */
    public void matMul(float[] x, int n, float[] out, int outStride, int from, int to) {
        Gemm.matMul(this, x, n, out, outStride, from, to);
    }

    /** Wraps a segment holding a [rows × cols] tensor of {@code type}. */
    public static WeightMatrix of(GgmlType type, MemorySegment data, int rows, int cols) {
        return switch (type) {
            case F32 -> new F32Matrix(data, rows, cols);
            case F16 -> new F16Matrix(data, rows, cols);
            case BF16 -> new Bf16Matrix(data, rows, cols);
            case Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, Q2_K, Q3_K, Q4_K, Q5_K, Q6_K, IQ4_NL ->
                    new QuantizedMatrix(type, data, rows, cols);
            default -> throw new UnsupportedTensorTypeException(type);
        };
    }
}
