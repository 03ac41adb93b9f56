package io.quant4j.tensor.quant;

import io.quant4j.tensor.GgmlType;
import io.quant4j.tensor.Simd;
import io.quant4j.tensor.UnsupportedTensorTypeException;
import io.quant4j.tensor.WeightMatrix;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * A weight matrix in one of ggml's block formats (Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, Q2_K..Q6_K, IQ4_NL), read in
 * place from its segment. {@link #dotScalar} is the reference: dequantize a block exactly as llama.cpp's
 * dequantize_row_* does, then a float dot with the activations. {@link #dot} and {@link #matVec} use the Vector
 * API kernels of {@link QuantKernels} and {@link KQuantKernels}; {@link #matVec} computes the activations' block
 * sums once per call. Nothing is allocated per call: scratch lives in per-thread buffers.
 */
public final class QuantizedMatrix extends WeightMatrix {
    /** Dequantizes one block held in {@code block} into {@code out[off .. off+blockSize)}. */
    @FunctionalInterface
    interface BlockDecoder {
        void decode(byte[] block, float[] out, int off);
    }

    /** Per-thread scratch: activation block sums and one block's bytes and values for the scalar path. */
    private static final class Scratch {
        float[] s16 = new float[0];
        float[] s32 = new float[0];
        final byte[] block = new byte[512];
        final float[] values = new float[256];
        final Q8Activations q8 = new Q8Activations();
        /** What q8 holds: the input array, its version (0: unknown) and layout. */
        float[] q8Input;
        int q8Version;
        GgmlType q8Layout;

        void sums(float[] x, int xo, int n) {
            if (s16.length < n / 16) {
                s16 = new float[n / 16];
                s32 = new float[n / 32 + 1];
            }
            QuantKernels.blockSums(x, xo, n, s16, s32);
        }
    }

    private static final ThreadLocal<Scratch> SCRATCH = ThreadLocal.withInitial(Scratch::new);

    /**
     * Whether {@link #matVec} multiplies Q4_0/Q8_0/Q4_K/Q6_K rows with int8-quantized activations (llama.cpp's
     * numerics and about twice the speed of float activations) rather than with the float activations
     * ({@code -Dquant4j.q8act=false}). {@link #dot} and the batched paths keep float activations.
     */
    public static final boolean Q8_ACTIVATIONS = Boolean.parseBoolean(System.getProperty("quant4j.q8act", "true"));

    private final BlockDecoder decoder;
    private final int blocks;

    public QuantizedMatrix(GgmlType type, MemorySegment data, int rows, int cols) {
        super(type, data, rows, cols);
        this.decoder = decoder(type);
        this.blocks = cols / type.blockSize;
    }

    static BlockDecoder decoder(GgmlType type) {
        return switch (type) {
            case Q4_0 -> Q4_0::dequantizeBlock;
            case Q4_1 -> Q4_1::dequantizeBlock;
            case Q5_0 -> Q5_0::dequantizeBlock;
            case Q5_1 -> Q5_1::dequantizeBlock;
            case Q8_0 -> Q8_0::dequantizeBlock;
            case Q2_K -> Q2_K::dequantizeBlock;
            case Q3_K -> Q3_K::dequantizeBlock;
            case Q4_K -> Q4_K::dequantizeBlock;
            case Q5_K -> Q5_K::dequantizeBlock;
            case Q6_K -> Q6_K::dequantizeBlock;
            case IQ4_NL -> IQ4_NL::dequantizeBlock;
            default -> throw new UnsupportedTensorTypeException(type);
        };
    }

    @Override
    public float dot(int row, float[] x, int xOffset) {
        if (!Simd.ENABLED) {
            return dotScalar(row, x, xOffset);
        }
        Scratch s = SCRATCH.get();
        s.sums(x, xOffset, cols);
        return dotVector(row * rowBytes, x, xOffset, s.s16, s.s32);
    }

    @Override
    public void matVec(float[] x, float[] out, int from, int to) {
        matVec(x, out, from, to, 0);
    }

    @Override
    public void matVec(float[] x, float[] out, int from, int to, int inputVersion) {
        GgmlType layout = Q8_ACTIVATIONS ? Q8Activations.layoutFor(type) : null;
        if (layout != null) {
            Scratch s = SCRATCH.get();
            Q8Activations a = s.q8;
            // A product split in chunks (and q/k/v or gate/up sharing one input) quantizes x once per thread.
            if (inputVersion == 0 || s.q8Version != inputVersion || s.q8Input != x || s.q8Layout != layout || a.n != cols) {
                a.quantize(layout, x, 0, cols);
                s.q8Input = x;
                s.q8Version = inputVersion;
                s.q8Layout = layout;
            }
            matVecQ8(a, out, from, to, Simd.ENABLED);
            return;
        }
        if (!Simd.ENABLED) {
            for (int r = from; r < to; r++) {
                out[r] = dotScalar(r, x, 0);
            }
            return;
        }
        Scratch s = SCRATCH.get();
        s.sums(x, 0, cols);
        float[] s16 = s.s16;
        float[] s32 = s.s32;
        // One switch per call, then a monomorphic loop over the static kernel.
        switch (type) {
            case Q8_0 -> {
                for (int r = from; r < to; r++) {
                    out[r] = QuantKernels.dotQ8_0(data, r * rowBytes, x, 0, blocks);
                }
            }
            case Q4_0 -> {
                for (int r = from; r < to; r++) {
                    out[r] = QuantKernels.dotQ4_0(data, r * rowBytes, x, 0, s32, 0, blocks);
                }
            }
            case Q4_K -> {
                for (int r = from; r < to; r++) {
                    out[r] = KQuantKernels.dotQ4_K(data, r * rowBytes, x, 0, s32, 0, blocks);
                }
            }
            case Q6_K -> {
                for (int r = from; r < to; r++) {
                    out[r] = KQuantKernels.dotQ6_K(data, r * rowBytes, x, 0, blocks);
                }
            }
            default -> {
                for (int r = from; r < to; r++) {
                    out[r] = dotVector(r * rowBytes, x, 0, s16, s32);
                }
            }
        }
    }

    /**
     * Rows from..to against activations already quantized to this type's {@link Q8Activations#layoutFor} layout,
     * with the Vector API kernels ({@code fast}) or their scalar references.
     */
    void matVecQ8(Q8Activations a, float[] out, int from, int to, boolean fast) {
        switch (type) {
            case Q4_0 -> {
                for (int r = from; r < to; r++) {
                    out[r] = fast ? IntDotKernels.dotQ4_0(data, r * rowBytes, a, 0, blocks) : IntDotKernels.dotQ4_0Scalar(data, r * rowBytes, a, 0, blocks);
                }
            }
            case Q8_0 -> {
                for (int r = from; r < to; r++) {
                    out[r] = fast ? IntDotKernels.dotQ8_0(data, r * rowBytes, a, 0, blocks) : IntDotKernels.dotQ8_0Scalar(data, r * rowBytes, a, 0, blocks);
                }
            }
            case Q4_K -> {
                for (int r = from; r < to; r++) {
                    out[r] = fast ? IntDotKernels.dotQ4_K(data, r * rowBytes, a, 0, blocks) : IntDotKernels.dotQ4_KScalar(data, r * rowBytes, a, 0, blocks);
                }
            }
            case Q6_K -> {
                for (int r = from; r < to; r++) {
                    out[r] = fast ? IntDotKernels.dotQ6_K(data, r * rowBytes, a, 0, blocks) : IntDotKernels.dotQ6_KScalar(data, r * rowBytes, a, 0, blocks);
                }
            }
            default -> throw new UnsupportedTensorTypeException(type);
        }
    }

    private float dotVector(long off, float[] x, int xo, float[] s16, float[] s32) {
        return switch (type) {
            case Q8_0 -> QuantKernels.dotQ8_0(data, off, x, xo, blocks);
            case Q4_0 -> QuantKernels.dotQ4_0(data, off, x, xo, s32, 0, blocks);
            case Q4_1 -> QuantKernels.dotQ4_1(data, off, x, xo, s32, 0, blocks);
            case Q5_0 -> QuantKernels.dotQ5_0(data, off, x, xo, s32, 0, blocks);
            case Q5_1 -> QuantKernels.dotQ5_1(data, off, x, xo, s32, 0, blocks);
            case IQ4_NL -> QuantKernels.dotIQ4_NL(data, off, x, xo, blocks);
            case Q2_K -> KQuantKernels.dotQ2_K(data, off, x, xo, s16, 0, blocks);
            case Q3_K -> KQuantKernels.dotQ3_K(data, off, x, xo, blocks);
            case Q4_K -> KQuantKernels.dotQ4_K(data, off, x, xo, s32, 0, blocks);
            case Q5_K -> KQuantKernels.dotQ5_K(data, off, x, xo, s32, 0, blocks);
            case Q6_K -> KQuantKernels.dotQ6_K(data, off, x, xo, blocks);
            default -> throw new UnsupportedTensorTypeException(type);
        };
    }

    /** Scalar reference: each block dequantized as llama.cpp does, then Σ w·x in float, in element order. */
    public float dotScalar(int row, float[] x, int xOffset) {
        int bs = type.blockSize;
        Scratch s = SCRATCH.get();
        byte[] block = s.block;
        float[] w = s.values;
        int bytes = type.bytesPerBlock;
        long base = row * rowBytes;
        float sum = 0f;
        for (int b = 0; b < blocks; b++) {
            MemorySegment.copy(data, ValueLayout.JAVA_BYTE, base + (long) b * bytes, block, 0, bytes);
            decoder.decode(block, w, 0);
            int xo = xOffset + b * bs;
            for (int j = 0; j < bs; j++) {
                sum += w[j] * x[xo + j];
            }
        }
        return sum;
    }

    @Override
    public void dequantizeRow(int row, float[] out, int outOffset) {
        dequantizeRange(row, 0, cols, out, outOffset);
    }

    @Override
    public void dequantizeRange(int row, int fromCol, int count, float[] out, int outOffset) {
        int bs = type.blockSize;
        long base = row * rowBytes + (long) (fromCol / bs) * type.bytesPerBlock;
        int nb = count / bs;
        if (Simd.ENABLED) {
            switch (type) {
                case Q8_0 -> {
                    QuantKernels.dequantQ8_0(data, base, out, outOffset, nb);
                    return;
                }
                case Q4_0 -> {
                    QuantKernels.dequantQ4_0(data, base, out, outOffset, nb);
                    return;
                }
                case Q4_1 -> {
                    QuantKernels.dequantQ4_1(data, base, out, outOffset, nb);
                    return;
                }
                case Q5_0 -> {
                    QuantKernels.dequantQ5_0(data, base, out, outOffset, nb);
                    return;
                }
                case Q5_1 -> {
                    QuantKernels.dequantQ5_1(data, base, out, outOffset, nb);
                    return;
                }
                case Q4_K -> {
                    KQuantKernels.dequantQ4_K(data, base, out, outOffset, nb);
                    return;
                }
                case Q6_K -> {
                    KQuantKernels.dequantQ6_K(data, base, out, outOffset, nb);
                    return;
                }
                case Q2_K -> {
                    KQuantKernels.dequantQ2_K(data, base, out, outOffset, nb);
                    return;
                }
                case Q3_K -> {
                    KQuantKernels.dequantQ3_K(data, base, out, outOffset, nb);
                    return;
                }
                case Q5_K -> {
                    KQuantKernels.dequantQ5_K(data, base, out, outOffset, nb);
                    return;
                }
                default -> {
                }
            }
        }
        byte[] block = SCRATCH.get().block;
        int bytes = type.bytesPerBlock;
        for (int b = 0; b < nb; b++) {
            MemorySegment.copy(data, ValueLayout.JAVA_BYTE, base + (long) b * bytes, block, 0, bytes);
            decoder.decode(block, out, outOffset + b * bs);
        }
    }

    /** Reference dequantization: the codec's block decoder, block by block. */
    public void dequantizeRowScalar(int row, float[] out, int outOffset) {
        byte[] block = SCRATCH.get().block;
        int bytes = type.bytesPerBlock;
        long base = row * rowBytes;
        int bs = type.blockSize;
        for (int b = 0; b < blocks; b++) {
            MemorySegment.copy(data, ValueLayout.JAVA_BYTE, base + (long) b * bytes, block, 0, bytes);
            decoder.decode(block, out, outOffset + b * bs);
        }
    }
}
