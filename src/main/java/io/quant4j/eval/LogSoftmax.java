package io.quant4j.eval;

/** Log-probabilities from logits, summed in double as llama-perplexity does. */
public final class LogSoftmax {
    private LogSoftmax() {
    }

    /** log p(token) under softmax(logits). */
    public static double logProb(float[] logits, int token) {
        float max = Float.NEGATIVE_INFINITY;
        for (float l : logits) {
            max = Math.max(max, l);
        }
        double sumExp = 0;
        for (float l : logits) {
            sumExp += Math.exp(l - max);
        }
        return logits[token] - max - Math.log(sumExp);
    }
}
