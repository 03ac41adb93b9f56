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
 * One matrix-vector product, {@code WeightMatrix.matVec(x, out, 0, rows)}, on one thread: the decode kernel of every
 * weight type quant4j reads. Weights are random Gaussian floats quantized with the type's codec into an off-heap
 * segment; the two default shapes are TinyLlama-1.1B's attention (2048x2048) and ffn gate/up (5632x2048) matrices
 * (rows x cols). Add {@code -p shape=2048x5632} for ffn_down.
 *
 * <p>The score is the average time of one product in µs. Each fork prints the matrix's size in its first warm-up
 * line, with the factors that convert the score: GB/s of weights = weight bytes / (score · 1000), ns per weight =
 * score · 1000 / (rows · cols). The {@code :kiloWeights} secondary result ({@link WeightCounter}) does the second
 * division: µs per thousand weights, i.e. ns per weight.
 * Weight bytes per row: F32 4·cols, F16/BF16 2·cols, otherwise cols / blockSize · bytesPerBlock
 * ({@link GgmlType}: Q8_0 34/32, Q4_0 and IQ4_NL 18/32, Q4_1 20/32, Q5_0 22/32, Q5_1 24/32, Q2_K 84/256,
 * Q3_K 110/256, Q4_K 144/256, Q5_K 176/256, Q6_K 210/256 bytes per weight).
 *
 * <p>Q4_0/Q8_0/Q4_K/Q6_K multiply int8-quantized activations here unless the fork runs with
 * {@code -Dquant4j.q8act=false}; {@link Q8ActBenchmark} compares the two.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(1)
@State(Scope.Thread)
public class MatVecBenchmark {
    @Param({"F32", "F16", "BF16", "Q8_0", "Q4_0", "Q4_1", "Q5_0", "Q5_1", "Q2_K", "Q3_K", "Q4_K", "Q5_K", "Q6_K", "IQ4_NL"})
    public GgmlType type;

    @Param({"2048x2048", "5632x2048"})
    public String shape;

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
        x = BenchWeights.gaussian(s[1], 1f, 7);
        out = new float[rows];
        BenchWeights.describe(w, 1);
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        arena.close();
    }

    @Benchmark
    public float[] matVec(WeightCounter counter) {
        w.matVec(x, out, 0, rows);
        counter.add(w, 1);
        return out;
    }
}
