package io.quant4j.bench;

import io.quant4j.tensor.GgmlType;
import io.quant4j.tensor.WeightMatrix;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import java.lang.foreign.Arena;
import java.util.concurrent.TimeUnit;

/**
 * The batched (prompt) product, {@code WeightMatrix.matMul(x, n, out, rows, 0, rows)} for {@code n} tokens on one
 * thread: {@link io.quant4j.tensor.Gemm}'s panels (each 4×512 weight panel dequantized once per call, then a
 * register-tiled float kernel over every token). Float activations for every type.
 *
 * <p>The score is µs per call (all {@code n} tokens). GB/s of weights = weight bytes / (score · 1000), each weight
 * being read once per call; the {@code :kiloWeights} secondary result is ns per weight·token
 * ({@link WeightCounter}). The fork's first warm-up line prints the factors.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(1)
@State(Scope.Thread)
public class MatMulBenchmark {
    @Param({"F16", "Q8_0", "Q4_0", "Q4_K", "Q6_K"})
    public GgmlType type;

    @Param({"2048x2048", "5632x2048"})
    public String shape;

    /** Tokens per batch (llama-bench's pp64). */
    @Param({"64"})
    public int n;

    private Arena arena;
    private WeightMatrix w;
    private float[] x;
    private float[] out;
    private int rows;

    @Setup(Level.Trial)
    public void setup() {
        int[] s = BenchWeights.shape(shape);
        rows = s[0];
        arena = Arena.ofShared();
        w = BenchWeights.matrix(type, s[0], s[1], arena, 42);
        x = BenchWeights.gaussian(Math.multiplyExact(n, s[1]), 1f, 7);
        out = new float[Math.multiplyExact(n, rows)];
        BenchWeights.describe(w, n);
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        arena.close();
    }

    @Benchmark
    public float[] matMul(WeightCounter counter) {
        w.matMul(x, n, out, rows, 0, rows);
        counter.add(w, n);
        return out;
    }
}
