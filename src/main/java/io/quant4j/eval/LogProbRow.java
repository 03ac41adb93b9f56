package io.quant4j.eval;

/**
 * One position's log-probabilities as llama-perplexity stores them for KL-divergence: two floats (scale,
 * min_log_prob) and one uint16 per vocabulary entry, {@code log p(i) = scale * q[i] + min_log_prob}. The window
 * covers 16 nats below the most likely token; anything less likely is stored as 0 (the floor of the window).
 * Arithmetic is float, as in llama.cpp, so the stored rows match its files.
 */
public final class LogProbRow {
    /** Nats below the maximum that the uint16 window covers. */
    static final float WINDOW = 16f;
    /** Quantized levels are 0..65535. */
    private static final float LEVELS = 65535f;

    private final short[] q;
    private float scale;
    private float minLogProb;

    public LogProbRow(int vocab) {
        this.q = new short[vocab];
    }

    public int vocab() {
        return q.length;
    }

    public float scale() {
        return scale;
    }

    public float minLogProb() {
        return minLogProb;
    }

    /** The stored level of entry {@code i} (0..65535). */
    public int level(int i) {
        return q[i] & 0xFFFF;
    }

    void set(float scale, float minLogProb) {
        this.scale = scale;
        this.minLogProb = minLogProb;
    }

    void setLevel(int i, int level) {
        q[i] = (short) level;
    }

    /** The stored log-probability of entry {@code i}. */
    public float logProb(int i) {
        return scale * (q[i] & 0xFFFF) + minLogProb;
    }

    /**
     * Quantizes the log-softmax of {@code logits} into this row and returns the negative log-likelihood of
     * {@code token} (llama.cpp's {@code log_softmax} with a {@code log_prob} output).
     */
    public double encode(float[] logits, int token) {
        int n = q.length;
        float max = logits[0];
        float min = logits[0];
        for (int i = 1; i < n; i++) {
            max = Math.max(max, logits[i]);
            min = Math.min(min, logits[i]);
        }
        min = Math.max(min, max - WINDOW);
        double sumExp = 0;
        for (int i = 0; i < n; i++) {
            sumExp += (float) Math.exp(logits[i] - max);
        }
        float logSumExp = (float) Math.log(sumExp);
        minLogProb = min - max - logSumExp;
        scale = (max - min) / LEVELS;
        if (scale != 0) {
            float inverse = 1 / scale;
            for (int i = 0; i < n; i++) {
                // round half to even, as llama.cpp's nearest_int; the cap only guards against float rounding past the top level
                q[i] = logits[i] > min ? (short) Math.min(65535, (int) Math.rint(inverse * (logits[i] - min))) : 0;
            }
        } else {
            java.util.Arrays.fill(q, (short) 0);
        }
        return max + logSumExp - logits[token];
    }
}
