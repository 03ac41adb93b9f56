package io.quant4j.tensor.quant;

import io.quant4j.bench.BenchWeights;
import io.quant4j.bench.WeightCounter;
import io.quant4j.tensor.GgmlType;
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
 * The scalar reference of the block types, {@link QuantizedMatrix#dotScalar} per row (each block dequantized as
 * llama.cpp's dequantize_row_* does, then a float dot with float activations): the baseline for
 * {@link io.quant4j.bench.MatVecBenchmark}'s block types (same inputs, same score and {@code :kiloWeights} units).
 * {@link IntDotReferenceBenchmark} has the references of the int8-activation kernels.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(1)
@State(Scope.Thread)
public class QuantReferenceBenchmark {
    @Param({"Q8_0", "Q4_0", "Q4_1", "Q5_0", "Q5_1", "Q2_K", "Q3_K", "Q4_K", "Q5_K", "Q6_K", "IQ4_NL"})
    public GgmlType type;

    @Param({"2048x2048", "5632x2048"})
    public String shape;

    private Arena arena;
    private QuantizedMatrix w;
    private float[] x;
    private float[] out;

    @Setup(Level.Trial)
    public void setup() {
        int[] s = BenchWeights.shape(shape);
        arena = Arena.ofShared();
        w = (QuantizedMatrix) BenchWeights.matrix(type, s[0], s[1], arena, 42);
        x = BenchWeights.gaussian(s[1], 1f, 7);
        out = new float[s[0]];
        BenchWeights.describe(w, 1);
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        arena.close();
    }

    @Benchmark
    public float[] matVecScalar(WeightCounter counter) {
        int rows = w.rows();
        for (int r = 0; r < rows; r++) {
            out[r] = w.dotScalar(r, x, 0);
        }
        counter.add(w, 1);
        return out;
    }
}
