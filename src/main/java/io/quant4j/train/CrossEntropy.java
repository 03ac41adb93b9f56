package io.quant4j.train;

/** Softmax cross-entropy of one row of logits against one target class. */
public final class CrossEntropy {
    private CrossEntropy() {
    }

    /**
     * Returns −log softmax(z)[target] for z = logits[off .. off+n) and, when dz is not null, writes
     * dz = weight · (softmax(z) − onehot(target)) at the same offset.
     */
    public static double lossAndGradient(double[] logits, int off, int n, int target, double weight, double[] dz) {
        double max = Double.NEGATIVE_INFINITY;
        for (int i = 0; i < n; i++) {
            max = Math.max(max, logits[off + i]);
        }
        double sum = 0;
        for (int i = 0; i < n; i++) {
            sum += Math.exp(logits[off + i] - max);
        }
        double logSum = max + Math.log(sum);
        if (dz != null) {
            for (int i = 0; i < n; i++) {
                dz[off + i] = weight * Math.exp(logits[off + i] - logSum);
            }
            dz[off + target] -= weight;
        }
        return logSum - logits[off + target];
    }
}
