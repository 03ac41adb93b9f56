package io.quant4j.train;

import io.quant4j.tensor.Parallel;
import io.quant4j.tensor.WeightMatrix;

import java.util.List;
import java.util.random.RandomGenerator;

/**
 * A frozen base weight of any stored type (F32, F16, a GGML quant). Rows are dequantized one at a time and used
 * for every input row before the next is read, so no float copy of the matrix is ever held; the backward
 * pass computes Wᵀ·dy the same way, each thread streaming all rows over its own slice of input rows.
 */
public final class FrozenLinear implements Linear {
    private final WeightMatrix weight;

    public FrozenLinear(WeightMatrix weight) {
        this.weight = weight;
    }

    public WeightMatrix weight() {
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
        Parallel.forRange(out, (long) rows * in, (from, to) -> {
            float[] f = new float[in];
            double[] w = new double[in];
            for (int r = from; r < to; r++) {
                weight.dequantizeRow(r, f, 0);
                DoubleKernels.widen(f, w, in);
                for (int t = 0; t < rows; t++) {
                    y[t * out + r] = DoubleKernels.dot(w, 0, x, t * in, in);
                }
            }
        });
        return null;
    }

    @Override
    public void backward(Saved saved, double[] x, double[] dy, int rows, double[] dx) {
        if (dx == null) {
            return;
        }
        int in = inputs();
        int out = outputs();
        int slices = Math.min(rows, Parallel.threads());
        Parallel.forRange(slices, (long) rows * in * out / Math.max(1, slices), (from, to) -> {
            float[] f = new float[in];
            double[] w = new double[in];
            int t0 = from * rows / slices;
            int t1 = to * rows / slices;
            for (int r = 0; r < out; r++) {
                weight.dequantizeRow(r, f, 0);
                DoubleKernels.widen(f, w, in);
                for (int t = t0; t < t1; t++) {
                    double g = dy[t * out + r];
                    if (g != 0) {
                        DoubleKernels.axpy(g, w, 0, dx, t * in, in);
                    }
                }
            }
        });
    }

    @Override
    public List<Parameter> parameters() {
        return List.of();
    }
}
