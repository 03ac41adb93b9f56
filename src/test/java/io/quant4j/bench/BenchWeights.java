package io.quant4j.bench;

import io.quant4j.tensor.GgmlType;
import io.quant4j.tensor.WeightMatrix;
import io.quant4j.tensor.quant.RowCodecs;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Random;

/**
 * Inputs shared by the JMH benchmarks: random Gaussian weights quantized with the type's {@link RowCodecs} codec into
 * an off-heap segment (as a mapped GGUF tensor would be read), and Gaussian activations. Seeds are fixed, so every
 * fork measures the same bytes.
 */
public final class BenchWeights {
    /** Weight scale: about that of a trained Llama projection (the kernels' speed does not depend on it). */
    static final float WEIGHT_SIGMA = 0.02f;

    private BenchWeights() {
    }

    /** "ROWSxCOLS", e.g. "5632x2048" (TinyLlama's ffn_gate/ffn_up: 5632 output features, 2048 inputs). */
    public static int[] shape(String shape) {
        String[] p = shape.toLowerCase(java.util.Locale.ROOT).split("x");
        if (p.length != 2) {
            throw new IllegalArgumentException("shape must be ROWSxCOLS, got " + shape);
        }
        return new int[] {Integer.parseInt(p[0].trim()), Integer.parseInt(p[1].trim())};
    }

    /** n values from N(0, sigma²). */
    public static float[] gaussian(int n, float sigma, long seed) {
        Random random = new Random(seed);
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) random.nextGaussian() * sigma;
        }
        return v;
    }

    /**
     * A rows × cols matrix of {@code type}: N(0, 0.02²) floats quantized row by row (no imatrix) into a 64-byte
     * aligned segment of {@code arena}.
     */
    public static WeightMatrix matrix(GgmlType type, int rows, int cols, Arena arena, long seed) {
        float[] src = gaussian(Math.multiplyExact(rows, cols), WEIGHT_SIGMA, seed);
        MemorySegment data = arena.allocate(Math.multiplyExact(type.byteSize(cols), (long) rows), 64);
        RowCodecs.quantizeRows(type, src, rows, cols, data, null);
        return WeightMatrix.of(type, data, rows, cols);
    }

    /** Bytes of weights one pass over the matrix reads. */
    public static long bytes(WeightMatrix w) {
        return w.rowBytes() * w.rows();
    }

    /**
     * Prints, from a benchmark's trial setup, the matrix's size and the factors that turn the score (µs per
     * operation) into GB/s of weights and ns per weight. No newline: JMH has just printed "# Warmup Iteration 1: "
     * and prints that iteration's score after it.
     */
    public static void describe(WeightMatrix w, int tokens) {
        long weights = (long) w.rows() * w.cols();
        long bytes = bytes(w);
        System.out.printf(java.util.Locale.ROOT,
                "[%s %dx%d, %d token(s) per op: %d bytes of weights (%.4g bits/weight); GB/s = %.6g / score, ns per weight%s = score × %.6g] ",
                w.format(), w.rows(), w.cols(), tokens, bytes, 8.0 * bytes / weights, bytes / 1e3, tokens > 1 ? "·token" : "",
                1e3 / ((double) weights * tokens));
        System.out.flush();
    }
}
