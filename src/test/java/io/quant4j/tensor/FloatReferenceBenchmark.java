package io.quant4j.tensor;

import io.quant4j.bench.BenchWeights;
import io.quant4j.bench.WeightCounter;
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
 * The scalar references of the float weight types (package-private {@code F32Matrix/F16Matrix/Bf16Matrix.dotScalar},
 * hence this package), one per row over the whole matrix: the baseline for {@link io.quant4j.bench.MatVecBenchmark}'s
 * F32, F16 and BF16 rows (same inputs, same score and {@code :kiloWeights} units).
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(1)
@State(Scope.Thread)
public class FloatReferenceBenchmark {
    @Param({"F32", "F16", "BF16"})
    public GgmlType type;

    @Param({"2048x2048", "5632x2048"})
    public String shape;

    private Arena arena;
    private WeightMatrix w;
    private float[] x;
    private float[] out;

    @Setup(Level.Trial)
    public void setup() {
        if (type != GgmlType.F32 && type != GgmlType.F16 && type != GgmlType.BF16) {
            throw new IllegalArgumentException("FloatReferenceBenchmark takes F32, F16 or BF16, not " + type);
        }
        int[] s = BenchWeights.shape(shape);
        arena = Arena.ofShared();
        w = BenchWeights.matrix(type, s[0], s[1], arena, 42);
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
        var data = w.data();
        long rowBytes = w.rowBytes();
        int rows = w.rows();
        int cols = w.cols();
        // One switch per call, then a loop over one static reference (as the matrices' matVec does).
        switch (type) {
            case F32 -> {
                for (int r = 0; r < rows; r++) {
                    out[r] = F32Matrix.dotScalar(data, r * rowBytes, x, 0, cols);
                }
            }
            case F16 -> {
                for (int r = 0; r < rows; r++) {
                    out[r] = F16Matrix.dotScalar(data, r * rowBytes, x, 0, cols);
                }
            }
            default -> {
                for (int r = 0; r < rows; r++) {
                    out[r] = Bf16Matrix.dotScalar(data, r * rowBytes, x, 0, cols);
                }
            }
        }
        counter.add(w, 1);
        return out;
    }
}
