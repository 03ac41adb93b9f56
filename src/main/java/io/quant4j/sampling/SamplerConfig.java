package io.quant4j.sampling;

import java.util.SplittableRandom;

/**
 * Sampling settings, named and defaulted as in llama.cpp's {@code common_params_sampling}.
 *
 * @param temperature   logits are divided by it before the softmax; 0 means greedy (argmax)
 * @param topK          keep the k most likely tokens; 0 disables
 * @param topP          keep the smallest prefix of the sorted distribution whose mass reaches p; 1 disables
 * @param minP          drop tokens whose probability is below {@code minP} times the top one's; 0 disables
 * @param repeatPenalty llama.cpp's repetition penalty over the last {@code repeatLastN} tokens; 1 disables
 * @param repeatLastN   how many recent tokens the penalty looks at; 0 disables, -1 means the whole history given
 * @param seed          seeds the random generator, so a given seed reproduces the same draws
 */
public record SamplerConfig(float temperature, int topK, float topP, float minP, float repeatPenalty, int repeatLastN,
                            long seed) {

    public static final float DEFAULT_TEMPERATURE = 0.8f;
    public static final int DEFAULT_TOP_K = 40;
    public static final float DEFAULT_TOP_P = 0.95f;
    public static final float DEFAULT_MIN_P = 0.05f;
    public static final float DEFAULT_REPEAT_PENALTY = 1.0f;
    public static final int DEFAULT_REPEAT_LAST_N = 64;

    public SamplerConfig {
        require(Float.isFinite(temperature) && temperature >= 0, "temperature must be >= 0 (0 = greedy), got " + temperature);
        require(topK >= 0, "top_k must be >= 0 (0 = disabled), got " + topK);
        require(topP > 0 && topP <= 1, "top_p must be in (0, 1], got " + topP);
        require(minP >= 0 && minP <= 1, "min_p must be in [0, 1], got " + minP);
        require(Float.isFinite(repeatPenalty) && repeatPenalty > 0, "repeat_penalty must be > 0 (1 = off), got " + repeatPenalty);
        require(repeatLastN >= -1, "repeat_last_n must be >= -1 (-1 = whole history, 0 = off), got " + repeatLastN);
    }

    /** llama.cpp's defaults with the given seed. */
    public static SamplerConfig defaults(long seed) {
        return new SamplerConfig(DEFAULT_TEMPERATURE, DEFAULT_TOP_K, DEFAULT_TOP_P, DEFAULT_MIN_P,
                DEFAULT_REPEAT_PENALTY, DEFAULT_REPEAT_LAST_N, seed);
    }

    /** llama.cpp's defaults with a fresh random seed (llama.cpp's default seed also means "random"). */
    public static SamplerConfig defaults() {
        return defaults(new SplittableRandom().nextLong());
    }

    /** Argmax decoding; the other filters do not matter then (the argmax survives all of them). */
    public static SamplerConfig greedy() {
        return defaults(0).withTemperature(0);
    }

    public boolean isGreedy() {
        return temperature <= 0;
    }

    public boolean penalizesRepeats() {
        return repeatPenalty != 1f && repeatLastN != 0;
    }

    public SamplerConfig withTemperature(float t) {
        return new SamplerConfig(t, topK, topP, minP, repeatPenalty, repeatLastN, seed);
    }

    public SamplerConfig withTopK(int k) {
        return new SamplerConfig(temperature, k, topP, minP, repeatPenalty, repeatLastN, seed);
    }

    public SamplerConfig withTopP(float p) {
        return new SamplerConfig(temperature, topK, p, minP, repeatPenalty, repeatLastN, seed);
    }

    public SamplerConfig withMinP(float p) {
        return new SamplerConfig(temperature, topK, topP, p, repeatPenalty, repeatLastN, seed);
    }

    public SamplerConfig withRepeatPenalty(float penalty, int lastN) {
        return new SamplerConfig(temperature, topK, topP, minP, penalty, lastN, seed);
    }

    public SamplerConfig withSeed(long s) {
        return new SamplerConfig(temperature, topK, topP, minP, repeatPenalty, repeatLastN, s);
    }

    private static void require(boolean ok, String message) {
        if (!ok) {
            throw new IllegalArgumentException(message);
        }
    }
}
