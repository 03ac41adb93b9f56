package io.quant4j.eval.report;

import io.quant4j.eval.KldSummary;

/**
 * What one child process measured for one model: size, perplexity on the report's text (llama.cpp protocol),
 * the KL-divergence figures against the base model (null for the base itself), its own peak resident memory
 * (VmHWM, JVM included) and greedy decode speed.
 */
public record ModelMeasurement(ModelFootprint footprint, double ppl, double pplError, long scoredTokens, int chunks,
                               KldSummary kld, long peakRssBytes, DecodeSpeed decode, double evalSeconds) {

    /** Mean decode tokens per second, NaN when decoding was not timed. */
    public double decodeTokensPerSecond() {
        return decode == null ? Double.NaN : decode.tokensPerSecond();
    }
}
