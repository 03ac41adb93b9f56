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

    /** Tokens fed so far. */
    int position();

    /** Tokens this session can hold. */
    int contextLength();

    int vocabSize();

    /** An independent copy (KV cache up to {@link #position()} included), for beam search. */
    InferenceSession copy();
}
