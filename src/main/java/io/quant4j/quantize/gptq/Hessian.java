package io.quant4j.quantize.gptq;

import io.quant4j.tensor.Parallel;

/**
 * H = (2/N)·Σ x·xᵀ over the N calibration tokens that reach one input (the running average of gptq.py add_batch,
 * there with N counted in sequences; the scale cancels out of GPTQ's updates). Each window's XᵀX is formed in float
 * by {@link Gemm} and summed in double.
 */
final class Hessian {
    private final int n;
    private final double[] sum;
    private float[] scratch;
    private long tokens;

    Hessian(int n) {
        this.n = n;
        this.sum = new double[Math.multiplyExact(n, n)];
    }

    int size() {
        return n;
    }

    /** Adds the rows of x [count × n]. */
    void add(float[] x, int count) {
        if (scratch == null) {
            scratch = new float[n * n];
        }
        Gemm.ataLower(x, count, n, scratch);
        float[] s = scratch;
        Parallel.forRange(n, n / 2, (from, to) -> {
            for (int i = from; i < to; i++) {
                for (int j = 0; j <= i; j++) {
                    sum[i * n + j] += s[i * n + j];
                }
            }
        });
        tokens += count;
    }

    long tokens() {
        return tokens;
    }

    /** The finished H (full symmetric matrix); the accumulator is consumed. */
    double[] finish() {
        double f = tokens == 0 ? 0 : 2.0 / tokens;
        for (int i = 0; i < n; i++) {
            for (int j = 0; j <= i; j++) {
                double v = sum[i * n + j] * f;
                sum[i * n + j] = v;
                sum[j * n + i] = v;
            }
        }
        scratch = null;
        return sum;
    }
}
