package io.quant4j.bench;

import io.quant4j.tensor.GgmlType;
import io.quant4j.tensor.WeightMatrix;
import io.quant4j.tensor.quant.QuantizedMatrix;
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
 * {@link MatVecBenchmark}'s product for the four types with an integer kernel, with int8-quantized activations
 * ({@code q8act=true}: Q8_0 blocks for Q4_0/Q8_0, Q8_K for Q4_K/Q6_K; the activations are quantized inside every
 * operation, as in decoding) and with float activations ({@code q8act=false}), side by side in one table.
 *
 * <p>{@link QuantizedMatrix#Q8_ACTIVATIONS} is a static final read from {@code -Dquant4j.q8act} when the class is
 * initialized, so the setup sets that property before anything touches the class. That works because JMH runs each
 * parameter combination in its own forked JVM; with {@code -f 0} (no fork) the second value would find the class
 * already initialized, and the setup fails rather than measure the wrong path.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(1)
@State(Scope.Thread)
public class Q8ActBenchmark {
    @Param({"Q8_0", "Q4_0", "Q4_K", "Q6_K"})
    public GgmlType type;

    @Param({"2048x2048", "5632x2048"})
    public String shape;

    @Param({"true", "false"})
    public boolean q8act;

    private Arena arena;
    private WeightMatrix w;
    private float[] x;
    private float[] out;
    private int rows;

    @Setup(Level.Trial)
    public void setup() {
        System.setProperty("quant4j.q8act", Boolean.toString(q8act));
        if (QuantizedMatrix.Q8_ACTIVATIONS != q8act) {
            throw new IllegalStateException("QuantizedMatrix.Q8_ACTIVATIONS was already initialized to "
                    + QuantizedMatrix.Q8_ACTIVATIONS + ": quant4j.q8act is read once per JVM, so run each value in "
                    + "its own fork (-f 1 or more, not -f 0)");
        }
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
