package io.quant4j.train;

import io.quant4j.tensor.Parallel;

import java.util.List;
import java.util.random.RandomGenerator;

/** A fully trained weight [outputs × inputs] held as a double {@link Parameter}. */
public final class DenseLinear implements Linear {
    private final Parameter weight;

    public DenseLinear(Parameter weight) {
        this.weight = weight;
    }

    public Parameter weight() {
        return weight;
    }

    @Override
    public int inputs() {
        return weight.cols();
    }

    @Override
    public int outputs() {
        return weight.rows();
    }

    @Override
    public Saved forward(double[] x, int rows, double[] y, RandomGenerator dropout) {
        int in = inputs();
        int out = outputs();
        double[] w = weight.value();
        Parallel.forRange(out, (long) rows * in, (from, to) -> {
            for (int r = from; r < to; r++) {
                for (int t = 0; t < rows; t++) {
                    y[t * out + r] = DoubleKernels.dot(w, r * in, x, t * in, in);
                }
            }
        });
        return null;
    }

    @Override
    public void backward(Saved saved, double[] x, double[] dy, int rows, double[] dx) {
        int in = inputs();
        int out = outputs();
        double[] w = weight.value();
        double[] dw = weight.grad();
        // dW[r] += Σ_t dy[t, r] · x[t]: split by output row, so threads write disjoint rows
        Parallel.forRange(out, (long) rows * in, (from, to) -> {
            for (int r = from; r < to; r++) {
                for (int t = 0; t < rows; t++) {
                    double g = dy[t * out + r];
                    if (g != 0) {
                        DoubleKernels.axpy(g, x, t * in, dw, r * in, in);
                    }
                }
            }
        });
        if (dx == null) {
            return;
        }
        // dx[t] += Σ_r dy[t, r] · W[r]: split by input row
        Parallel.forRange(rows, (long) out * in, (from, to) -> {
            for (int t = from; t < to; t++) {
                for (int r = 0; r < out; r++) {
                    double g = dy[t * out + r];
                    if (g != 0) {
                        DoubleKernels.axpy(g, w, r * in, dx, t * in, in);
                    }
                }
            }
        });
    }

    @Override
    public List<Parameter> parameters() {
        return List.of(weight);
    }
}
