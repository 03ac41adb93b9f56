package io.quant4j.eval;

import io.quant4j.model.InferenceSession;

import java.util.function.Supplier;

/**
 * llama-perplexity's {@code --kl-divergence} run: replays the chunks stored in a base file through another model
 * (usually a quantized copy of the base), under the protocol the file was made with, and compares each scored
 * position's distribution with the stored one. The base rows are streamed alongside, one at a time.
 */
public final class KlDivergence {
    /** Receives the running figures after each chunk (1-based). */
    public interface Progress {
        void chunkDone(int chunk, int totalChunks, KldSummary running);
    }

    private KlDivergence() {
    }

    /**
     * @param maxChunks at most this many chunks of the file (all when {@code <= 0})
     * @param bos       the model's BOS id, put in each chunk's first position under the llama.cpp protocol (-1: none)
     */
    public static KldSummary evaluate(Supplier<InferenceSession> sessions, KldBaseReader base, int maxChunks, int bos,
                                      Progress progress) {
        KldBaseFile f = base.layout();
        int[] tokens = base.tokens();
        int chunks = maxChunks > 0 ? Math.min(maxChunks, f.chunks()) : f.chunks();
        int first = f.protocol().firstScored(f.ctx());
        KldStatistics stats = new KldStatistics();
        for (int c = 0; c < chunks; c++) {
            int start = c * f.ctx();
            InferenceSession session = sessions.get();
            if (session.vocabSize() != f.vocab()) {
                throw new IllegalArgumentException(base.path() + ": made with a vocabulary of " + f.vocab()
                        + " tokens, this model has " + session.vocabSize());
            }
            for (int i = 0; i < f.ctx() - 1; i++) {
                boolean bosHere = i == 0 && bos >= 0 && f.protocol().replacesFirstTokenWithBos();
                float[] logits = session.forward(bosHere ? bos : tokens[start + i]);
                if (i >= first) {
                    stats.add(logits, base.nextRow(), tokens[start + i + 1]);
                }
            }
            if (progress != null) {
                progress.chunkDone(c + 1, chunks, stats.summary(false));
            }
        }
        return stats.summary(true);
    }
}
