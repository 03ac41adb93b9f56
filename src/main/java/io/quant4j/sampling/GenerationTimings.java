package io.quant4j.sampling;

/**
 * Where the time of one generation went, in llama.cpp's terms: prompt evaluation, per-token evaluation ("decode":
 * the forward calls after the prompt) and sampling. Listener time is not counted. For beam search, decode covers
 * the whole search (its forward calls and its ranking) and sampling is zero.
 */
public record GenerationTimings(int promptTokens, long promptNanos, int decodeCalls, long decodeNanos,
                                int sampledTokens, long sampleNanos) {

    public double promptMs() {
        return promptNanos / 1e6;
    }

    public double promptMsPerToken() {
        return perToken(promptNanos, promptTokens);
    }

    public double promptTokensPerSecond() {
        return perSecond(promptTokens, promptNanos);
    }

    public double decodeMs() {
        return decodeNanos / 1e6;
    }

    public double decodeMsPerToken() {
        return perToken(decodeNanos, decodeCalls);
    }

    /** Decode throughput: forward calls after the prompt per second (llama.cpp's "eval" tokens per second). */
    public double tokensPerSecond() {
        return perSecond(decodeCalls, decodeNanos);
    }

    public double sampleMsPerToken() {
        return perToken(sampleNanos, sampledTokens);
    }

    private static double perToken(long nanos, int count) {
        return count == 0 ? 0 : nanos / 1e6 / count;
    }

    private static double perSecond(int count, long nanos) {
        return nanos == 0 ? 0 : count / (nanos / 1e9);
    }

    @Override
    public String toString() {
        return String.format("prompt eval: %.2f ms / %d tokens (%.2f ms per token, %.2f tokens per second); "
                        + "eval: %.2f ms / %d runs (%.2f ms per token, %.2f tokens per second); sampling: %.2f ms per token",
                promptMs(), promptTokens, promptMsPerToken(), promptTokensPerSecond(),
                decodeMs(), decodeCalls, decodeMsPerToken(), tokensPerSecond(), sampleMsPerToken());
    }
}
