package io.quant4j.sampling;

/**
 * What a generation produced.
 *
 * @param tokens   the new tokens, without the prompt and without an end-of-generation token
 * @param endToken the end-of-generation token that stopped it, or -1
 * @param stopReason why it stopped
 * @param timings  where the time went
 */
public record GenerationResult(int[] tokens, int endToken, StopReason stopReason, GenerationTimings timings) {
}
