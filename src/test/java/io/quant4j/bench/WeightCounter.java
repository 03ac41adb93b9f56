package io.quant4j.bench;

import io.quant4j.tensor.WeightMatrix;
import org.openjdk.jmh.annotations.AuxCounters;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

/**
 * A secondary JMH result, {@code :kiloWeights}: thousands of weight·token products per operation (rows · cols for a
 * matrix-vector product, rows · cols · tokens for a batch). In average-time mode JMH divides the time by it, so with
 * the benchmarks' µs unit it reads "µs per thousand weights", which is ns per weight (per weight·token for a batch).
 */
@AuxCounters(AuxCounters.Type.OPERATIONS)
@State(Scope.Thread)
public class WeightCounter {
    public double kiloWeights;

    @Setup(Level.Iteration)
    public void reset() {
        kiloWeights = 0;
    }

    /** Counts one product of {@code w} with {@code tokens} activation vectors. */
    public void add(WeightMatrix w, int tokens) {
        kiloWeights += (double) w.rows() * w.cols() * tokens / 1000;
    }
}
