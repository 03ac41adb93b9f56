package io.quant4j.model;

/**
 * A decoding state over one model: the KV cache and position of one sequence. {@link #forward} feeds one token
 * at the current position and returns the logits for the next one. Sampling and beam search work through this
 * interface only.
 */
public interface InferenceSession {

    /** Feeds {@code token} at {@link #position()}, advances by one, returns the next-token logits (a buffer reused by the next call). */
    float[] forward(int token);

    /** Feeds several tokens (a prompt) and returns the logits after the last one. */
    default float[] forward(int[] tokens) {
        if (tokens.length == 0) {
            throw new IllegalArgumentException("empty prompt");
        }
        float[] logits = null;
        for (int t : tokens) {
            logits = forward(t);
        }
        return logits;
    }

    /** Receives the logits after each token of {@link #forwardEach}; the array is reused for the next call. */
    @FunctionalInterface
    interface LogitsListener {
        void logits(int index, float[] logits);
    }

    /**
     * Feeds several tokens and hands the logits after each one, in order, to {@code listener} (perplexity needs every
     * position). Implementations may run the tokens as batches; this default feeds them one by one.
     */
    default void forwardEach(int[] tokens, LogitsListener listener) {
        for (int i = 0; i < tokens.length; i++) {
            listener.logits(i, forward(tokens[i]));
        }
    }

    /** Tokens fed so far. */
    int position();

    /** Tokens this session can hold. */
    int contextLength();

    int vocabSize();

    /** An independent copy (KV cache up to {@link #position()} included), for beam search. */
    InferenceSession copy();
}
