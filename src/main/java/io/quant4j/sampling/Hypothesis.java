package io.quant4j.sampling;

/**
 * One beam-search candidate sequence.
 *
 * @param tokens   the new tokens, without the end-of-generation token
 * @param endToken the end-of-generation token that closed it, or -1 when it ran to the length limit
 * @param logProb  sum of the natural-log probabilities of its tokens, the end token's included
 * @param score    {@code logProb / length^lengthPenalty}, length counting the end token; what beams are ranked by
 */
public record Hypothesis(int[] tokens, int endToken, double logProb, double score) {

    public boolean endedWithEos() {
        return endToken >= 0;
    }

    /** Tokens scored: the new tokens plus the end token if any. */
    public int length() {
        return tokens.length + (endedWithEos() ? 1 : 0);
    }
}
