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
 * The scalar references of the int8-activation kernels (package-private {@code IntDotKernels.dot*Scalar}, through
 * {@code QuantizedMatrix.matVecQ8(..., fast = false)}, hence this package), with the activations quantized once per
 * operation as {@code matVec} does: the baseline for {@link io.quant4j.bench.Q8ActBenchmark}'s {@code q8act=true}
 * rows (same inputs, same score and {@code :kiloWeights} units). Independent of {@code -Dquant4j.q8act}.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(1)
@State(Scope.Thread)
public class IntDotReferenceBenchmark {
    @Param({"Q8_0", "Q4_0", "Q4_K", "Q6_K"})
    public GgmlType type;

    @Param({"2048x2048", "5632x2048"})
    public String shape;

    private Arena arena;
    private QuantizedMatrix w;
    private GgmlType layout;
    private Q8Activations q8;
    private float[] x;
    private float[] out;

    @Setup(Level.Trial)
    public void setup() {
        layout = Q8Activations.layoutFor(type);
        if (layout == null) {
            throw new IllegalArgumentException(type + " has no int8-activation kernel");
        }
        int[] s = BenchWeights.shape(shape);
        arena = Arena.ofShared();
        w = (QuantizedMatrix) BenchWeights.matrix(type, s[0], s[1], arena, 42);
        q8 = new Q8Activations();
        x = BenchWeights.gaussian(s[1], 1f, 7);
        out = new float[s[0]];
        BenchWeights.describe(w, 1);
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        arena.close();
    }

    @Benchmark
    public float[] matVecQ8Scalar(WeightCounter counter) {
        q8.quantize(layout, x, 0, w.cols());
        w.matVecQ8(q8, out, 0, w.rows(), false);
        counter.add(w, 1);
        return out;
    }
}
