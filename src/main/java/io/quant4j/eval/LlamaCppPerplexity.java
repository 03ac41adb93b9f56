package io.quant4j.eval;

import io.quant4j.model.InferenceSession;

import java.util.function.Supplier;

/**
 * llama.cpp's llama-perplexity protocol: the whole text tokenized with BOS at the start, cut into
 * non-overlapping chunks of {@code ctx} tokens, the first token of every chunk replaced by BOS, a fresh KV cache
 * per chunk, and only the second half of each chunk scored (positions ctx/2 .. ctx-2 predict the next token).
 */
public final class LlamaCppPerplexity {
    /** Receives the running estimate after each chunk (1-based). */
    public interface Progress {
        void chunkDone(int chunk, int totalChunks, PerplexityResult runningEstimate);
    }

    private LlamaCppPerplexity() {
    }

    /** Chunks the protocol will evaluate for {@code tokenCount} tokens (llama.cpp: tokens / ctx, capped by maxChunks when > 0). */
    public static int chunkCount(int tokenCount, int ctx, int maxChunks) {
        int n = tokenCount / ctx;
        return maxChunks > 0 ? Math.min(n, maxChunks) : n;
    }

    public static PerplexityResult evaluate(Supplier<InferenceSession> sessions, int[] tokens, int ctx, int maxChunks, int bos,
                                            Progress progress) {
        return evaluate(sessions, tokens, ctx, maxChunks, bos, progress, null);
    }

    /** As above; {@code observer} (may be null) also sees the logits of every scored position. */
    public static PerplexityResult evaluate(Supplier<InferenceSession> sessions, int[] tokens, int ctx, int maxChunks, int bos,
                                            Progress progress, ScoredPositionObserver observer) {
        if (ctx < 4) {
            throw new IllegalArgumentException("context " + ctx + " is too small for perplexity");
        }
        if (tokens.length < 2 * ctx) {
            throw new IllegalArgumentException("the text has " + tokens.length + " tokens; perplexity with a context of "
                    + ctx + " needs at least " + 2 * ctx);
        }
        int chunks = chunkCount(tokens.length, ctx, maxChunks);
        int first = ctx / 2;
        double[] sums = new double[2];
        long[] counted = new long[1];
        for (int c = 0; c < chunks; c++) {
            int start = c * ctx;
            InferenceSession session = sessions.get();
            int[] chunk = java.util.Arrays.copyOfRange(tokens, start, start + ctx - 1);
            if (bos >= 0) {
                chunk[0] = bos;
            }
            // All positions' logits in one call: a batched session reads the weights once per batch.
            session.forwardEach(chunk, (i, logits) -> {
                if (i >= first) {
                    if (observer != null) {
                        observer.scored(logits, tokens[start + i + 1]);
                    }
                    double v = -LogSoftmax.logProb(logits, tokens[start + i + 1]);
                    sums[0] += v;
                    sums[1] += v * v;
                    counted[0]++;
                }
            });
            if (progress != null) {
                progress.chunkDone(c + 1, chunks, PerplexityResult.of(sums[0], sums[1], counted[0]));
            }
        }
        double nll = sums[0];
        double nll2 = sums[1];
        long count = counted[0];
        return PerplexityResult.of(nll, nll2, count);
    }
}
