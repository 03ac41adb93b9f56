package io.quant4j.eval;

/** A mean (or a quantity derived from means) with its one-sigma uncertainty, as llama-perplexity prints {@code x ± u}. */
public record Estimate(double value, double uncertainty) {
    /** Mean of {@code count} samples and the standard error of that mean; llama.cpp reports no error below 11 samples. */
    static Estimate ofSums(double sum, double sumSquares, long count) {
        if (count < 1) {
            return new Estimate(0, 0);
        }
        double mean = sum / count;
        double variance = sumSquares / count - mean * mean;
        return new Estimate(mean, variance > 0 && count > 10 ? Math.sqrt(variance / (count - 1)) : 0);
    }
}
