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

    /**
     * Distillation: −Σ p log softmax(z) against the teacher's distribution p = softmax(teacher logits) (the
     * cross-entropy whose minimum is at the teacher's distribution), and, when dz is not null,
     * dz = weight · (softmax(z) − p).
     */
    public static double softTargetLossAndGradient(double[] logits, int off, int n, double[] teacher, int teacherOff, double weight,
                                                   double[] dz) {
        double logSum = logSumExp(logits, off, n);
        double teacherLogSum = logSumExp(teacher, teacherOff, n);
        double loss = 0;
        for (int i = 0; i < n; i++) {
            double p = Math.exp(teacher[teacherOff + i] - teacherLogSum);
            loss -= p * (logits[off + i] - logSum);
            if (dz != null) {
                dz[off + i] = weight * (Math.exp(logits[off + i] - logSum) - p);
            }
        }
        return loss;
    }

    private static double logSumExp(double[] v, int off, int n) {
        double max = Double.NEGATIVE_INFINITY;
        for (int i = 0; i < n; i++) {
            max = Math.max(max, v[off + i]);
        }
        double sum = 0;
        for (int i = 0; i < n; i++) {
            sum += Math.exp(v[off + i] - max);
        }
        return max + Math.log(sum);
    }
}
