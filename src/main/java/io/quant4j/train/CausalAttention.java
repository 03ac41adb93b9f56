package io.quant4j.train;

import io.quant4j.tensor.Parallel;

/**
 * Causal scaled dot-product attention with grouped-query heads over a whole sequence: query head h reads
 * key/value head h / (heads / kvHeads); position t attends to positions 0..t. q is [T × heads·d], k and v are
 * [T × kvHeads·d]; the softmax probabilities [heads × T × T] are kept for the backward pass.
 */
public final class CausalAttention {
    private CausalAttention() {
    }

    public static void forward(double[] q, double[] k, double[] v, int rows, int heads, int kvHeads, int d,
                               double[] probs, double[] out) {
        int group = heads / kvHeads;
        int qw = heads * d;
        int kw = kvHeads * d;
        double scale = 1.0 / Math.sqrt(d);
        Parallel.forRange(heads, (long) rows * rows * d, (from, to) -> {
            for (int h = from; h < to; h++) {
                int qo = h * d;
                int ko = (h / group) * d;
                for (int t = 0; t < rows; t++) {
                    int p = (h * rows + t) * rows;
                    double max = Double.NEGATIVE_INFINITY;
                    for (int s = 0; s <= t; s++) {
                        double score = DoubleKernels.dot(q, t * qw + qo, k, s * kw + ko, d) * scale;
                        probs[p + s] = score;
                        max = Math.max(max, score);
                    }
                    double sum = 0;
                    for (int s = 0; s <= t; s++) {
                        double e = Math.exp(probs[p + s] - max);
                        probs[p + s] = e;
                        sum += e;
                    }
                    java.util.Arrays.fill(out, t * qw + qo, t * qw + qo + d, 0);
                    for (int s = 0; s <= t; s++) {
                        probs[p + s] /= sum;
                        DoubleKernels.axpy(probs[p + s], v, s * kw + ko, out, t * qw + qo, d);
                    }
                }
            }
        });
    }

    /**
     * Adds the gradients of q, k and v given dOut. Split by key/value head, so the query heads sharing one
     * never write the same dk/dv rows from two threads.
     */
    public static void backward(double[] q, double[] k, double[] v, double[] probs, double[] dOut, int rows, int heads,
                                int kvHeads, int d, double[] dq, double[] dk, double[] dv) {
        int group = heads / kvHeads;
        int qw = heads * d;
        int kw = kvHeads * d;
        double scale = 1.0 / Math.sqrt(d);
        Parallel.forRange(kvHeads, (long) group * rows * rows * d * 3, (from, to) -> {
            double[] dScore = new double[rows];
            for (int kv = from; kv < to; kv++) {
                int ko = kv * d;
                for (int h = kv * group; h < (kv + 1) * group; h++) {
                    int qo = h * d;
                    for (int t = 0; t < rows; t++) {
                        int p = (h * rows + t) * rows;
                        int go = t * qw + qo;
                        double weighted = 0;
                        for (int s = 0; s <= t; s++) {
                            double dp = DoubleKernels.dot(dOut, go, v, s * kw + ko, d);
                            dScore[s] = dp;
                            weighted += probs[p + s] * dp;
                            DoubleKernels.axpy(probs[p + s], dOut, go, dv, s * kw + ko, d);
                        }
                        for (int s = 0; s <= t; s++) {
                            double ds = probs[p + s] * (dScore[s] - weighted) * scale;
                            DoubleKernels.axpy(ds, k, s * kw + ko, dq, t * qw + qo, d);
                            DoubleKernels.axpy(ds, q, t * qw + qo, dk, s * kw + ko, d);
                        }
                    }
                }
            }
        });
    }
}
