package io.quant4j.sampling;

import java.util.SplittableRandom;

/**
 * Picks the next token from logits, in llama.cpp's default order: repetition penalty → top-k → top-p → min-p →
 * temperature → softmax → seeded draw. Temperature 0 is argmax (after the penalty, as in llama.cpp, where the
 * penalty sampler precedes the greedy choice).
 *
 * <p>Top-p and min-p see the untempered distribution over the tokens that survived the previous step, as in
 * llama.cpp. Nothing is allocated per token: buffers of vocabulary size are made on first use and reused. Not
 * thread-safe; one sampler per generation stream.
 */
public final class Sampler {
    private static final int[] NO_HISTORY = new int[0];

    private final SamplerConfig config;
    private final SplittableRandom random;
    private float[] penalized = new float[0];
    private int[] ids = new int[0];
    private double[] weights = new double[0];

    public Sampler(SamplerConfig config) {
        this.config = config;
        this.random = new SplittableRandom(config.seed());
    }

    public SamplerConfig config() {
        return config;
    }

    /** Samples with no history (the repetition penalty then does nothing). */
    public int sample(float[] logits) {
        return sample(logits, NO_HISTORY, 0);
    }

    /**
     * Samples the next token. {@code history[0..historyLength)} are the tokens so far (prompt included, as llama.cpp
     * feeds prompt tokens to its penalty sampler); the penalty looks at the last {@code repeatLastN} of them.
     * {@code logits} is not modified.
     */
    public int sample(float[] logits, int[] history, int historyLength) {
        float[] l = applyRepeatPenalty(logits, history, historyLength);
        if (config.isGreedy()) {
            return TokenRanking.argmax(l);
        }
        int n = selectCandidates(l);
        double total = weighCandidates(l, n);
        return draw(n, total);
    }

    /**
     * The full probability vector this sampler draws from for these inputs (zeros for filtered tokens); for tests
     * and diagnostics, so it allocates. Greedy gives a one-hot vector.
     */
    double[] distribution(float[] logits, int[] history, int historyLength) {
        float[] l = applyRepeatPenalty(logits, history, historyLength);
        double[] p = new double[logits.length];
        if (config.isGreedy()) {
            p[TokenRanking.argmax(l)] = 1;
            return p;
        }
        int n = selectCandidates(l);
        double total = weighCandidates(l, n);
        for (int i = 0; i < n; i++) {
            p[ids[i]] = weights[i] / total;
        }
        return p;
    }

    /**
     * llama.cpp's repetition penalty: each distinct token among the last N has its logit divided by the penalty
     * when positive and multiplied when not. Works on a copy, so the caller's (session-owned) logits stay intact.
     */
    private float[] applyRepeatPenalty(float[] logits, int[] history, int historyLength) {
        if (!config.penalizesRepeats() || historyLength == 0) {
            return logits;
        }
        if (penalized.length != logits.length) {
            penalized = new float[logits.length];
        }
        System.arraycopy(logits, 0, penalized, 0, logits.length);
        int window = config.repeatLastN() < 0 ? historyLength : Math.min(config.repeatLastN(), historyLength);
        float penalty = config.repeatPenalty();
        for (int i = historyLength - window; i < historyLength; i++) {
            int t = history[i];
            // Computed from the original logit, so a token seen several times is penalized once.
            float v = logits[t];
            penalized[t] = v <= 0 ? v * penalty : v / penalty;
        }
        return penalized;
    }

    /** Top-k, top-p and min-p: leaves the surviving ids in {@code ids[0..n)} and returns n. */
    private int selectCandidates(float[] l) {
        int vocab = l.length;
        if (ids.length < vocab) {
            ids = new int[vocab];
            weights = new double[vocab];
        }
        int k = config.topK();
        if (k > 0 && k < vocab) {
            int n = TokenRanking.top(l, k, ids);
            return cutSorted(l, n, sumExp(l, n, l[ids[0]]));
        }
        return selectWithoutTopK(l);
    }

    /**
     * Without top-k the candidates are the whole vocabulary. Rather than sorting it, first drop what neither filter
     * can keep: below min-p's logit threshold, or (for top-p) tokens with probability under (1-p)/(V-1), which
     * together weigh less than 1-p and so can never be needed to reach mass p. Only the survivors are sorted.
     */
    private int selectWithoutTopK(float[] l) {
        int vocab = l.length;
        float max = l[TokenRanking.argmax(l)];
        double threshold = Double.NEGATIVE_INFINITY;
        if (config.minP() > 0) {
            threshold = max + Math.log(config.minP());
        }
        double total = 0;
        boolean topP = config.topP() < 1f;
        if (topP) {
            total = sumExpAll(l, max);
            if (vocab > 1) {
                threshold = Math.max(threshold, max + Math.log((1 - config.topP()) / (vocab - 1) * total));
            }
        }
        int n = 0;
        for (int i = 0; i < vocab; i++) {
            if (l[i] >= threshold) {
                ids[n++] = i;
            }
        }
        if (!topP) {
            return n; // min-p alone is exactly the threshold; no order needed
        }
        TokenRanking.sortDescending(l, ids, n);
        return cutSorted(l, n, total);
    }

    /**
     * Applies top-p then min-p to the best-first {@code ids[0..n)}; {@code total} is the softmax denominator
     * (relative to the top logit) of the distribution top-p measures mass in.
     */
    private int cutSorted(float[] l, int n, double total) {
        float max = l[ids[0]];
        if (config.topP() < 1f) {
            double mass = 0;
            for (int i = 0; i < n; i++) {
                mass += Math.exp(l[ids[i]] - max) / total;
                if (mass >= config.topP()) {
                    n = i + 1;
                    break;
                }
            }
        }
        if (config.minP() > 0) {
            double threshold = max + Math.log(config.minP());
            int keep = 1;
            while (keep < n && l[ids[keep]] >= threshold) {
                keep++;
            }
            n = keep;
        }
        return n;
    }

    /** Fills {@code weights[0..n)} with the tempered, unnormalized softmax and returns their sum. */
    private double weighCandidates(float[] l, int n) {
        float max = Float.NEGATIVE_INFINITY;
        for (int i = 0; i < n; i++) {
            max = Math.max(max, l[ids[i]]);
        }
        double invT = 1.0 / config.temperature();
        double total = 0;
        for (int i = 0; i < n; i++) {
            double w = Math.exp((l[ids[i]] - max) * invT);
            weights[i] = w;
            total += w;
        }
        return total;
    }

    private int draw(int n, double total) {
        double r = random.nextDouble() * total;
        double cumulative = 0;
        for (int i = 0; i < n; i++) {
            cumulative += weights[i];
            if (r < cumulative) {
                return ids[i];
            }
        }
        return ids[n - 1]; // rounding left r at the very end
    }

    private double sumExp(float[] l, int n, float max) {
        double s = 0;
        for (int i = 0; i < n; i++) {
            s += Math.exp(l[ids[i]] - max);
        }
        return s;
    }

    private static double sumExpAll(float[] l, float max) {
        double s = 0;
        for (float v : l) {
            s += Math.exp(v - max);
        }
        return s;
    }
}
