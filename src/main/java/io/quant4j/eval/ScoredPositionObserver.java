package io.quant4j.eval;

/**
 * Sees the logits of every scored position, in order, while a perplexity run goes on: how the KL-divergence base
 * file is written alongside the ordinary perplexity figure without a second pass.
 */
@FunctionalInterface
public interface ScoredPositionObserver {
    /** {@code logits} predict {@code nextToken}; the array is reused after this call returns. */
    void scored(float[] logits, int nextToken);
}
