package io.quant4j.eval;

import io.quant4j.model.InferenceSession;

import java.util.function.Supplier;

/**
 * The GPTQ paper's evaluation (gptq/llama.py llama_eval): the whole dataset tokenized once (BOS only at the very
 * start, as the Hugging Face tokenizer adds it), cut into non-overlapping windows of {@code seqlen} tokens (the
 * tail that does not fill a window is dropped), every position of a window scored against the next token, a fresh
 * cache per window. As in GPTQ, each window's mean NLL is weighted by seqlen, so the figure is exp(mean of the
 * window means).
 */
public final class GptqPerplexity {
    private GptqPerplexity() {
    }

    public static PerplexityResult evaluate(Supplier<InferenceSession> sessions, int[] tokens, int seqlen, int maxWindows,
                                            LlamaCppPerplexity.Progress progress) {
        return evaluate(sessions, tokens, seqlen, maxWindows, progress, null);
    }

    /** Windows evaluated for {@code tokenCount} tokens (the tail that does not fill a window is dropped). */
    public static int windowCount(int tokenCount, int seqlen, int maxWindows) {
        int windows = tokenCount / seqlen;
        return maxWindows > 0 ? Math.min(windows, maxWindows) : windows;
    }

    /** As above; {@code observer} (may be null) also sees the logits of every scored position. */
    public static PerplexityResult evaluate(Supplier<InferenceSession> sessions, int[] tokens, int seqlen, int maxWindows,
                                            LlamaCppPerplexity.Progress progress, ScoredPositionObserver observer) {
        if (seqlen < 2) {
            throw new IllegalArgumentException("sequence length " + seqlen + " is too small");
        }
        int windows = windowCount(tokens.length, seqlen, maxWindows);
        if (windows < 1) {
            throw new IllegalArgumentException("the dataset has " + tokens.length + " tokens, less than one window of " + seqlen);
        }
        double sumWindowMeans = 0;
        double sumSquares = 0;
        long count = 0;
        for (int w = 0; w < windows; w++) {
            InferenceSession s = sessions.get();
            int start = w * seqlen;
            double[] window = new double[2]; // Σ nll, Σ nll²
            s.forwardEach(java.util.Arrays.copyOfRange(tokens, start, start + seqlen - 1), (i, logits) -> {
                if (observer != null) {
                    observer.scored(logits, tokens[start + i + 1]);
                }
                double nll = -LogSoftmax.logProb(logits, tokens[start + i + 1]);
                window[0] += nll;
                window[1] += nll * nll;
            });
            sumWindowMeans += window[0] / (seqlen - 1);
            sumSquares += window[1];
            count += seqlen - 1;
            if (progress != null) {
                progress.chunkDone(w + 1, windows, gptqResult(sumWindowMeans, w + 1, sumSquares, count));
            }
        }
        return gptqResult(sumWindowMeans, windows, sumSquares, count);
    }

    private static PerplexityResult gptqResult(double sumWindowMeans, int windows, double sumSquares, long count) {
        double meanNll = sumWindowMeans / windows;
        double ppl = Math.exp(meanNll);
        double var = sumSquares / count - meanNll * meanNll;
        double err = var > 0 && count > 1 ? Math.sqrt(var / (count - 1)) : 0;
        return new PerplexityResult(ppl, ppl * err, count, meanNll);
    }
}
