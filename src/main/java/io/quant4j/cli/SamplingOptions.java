package io.quant4j.cli;

import io.quant4j.sampling.SamplerConfig;
import picocli.CommandLine.Option;

/** llama.cpp's sampling flags, shared by generate and chat. */
public final class SamplingOptions {
    @Option(names = "--temp", paramLabel = "T", description = "temperature, 0 = greedy (default 0.8)")
    float temperature = 0.8f;

    @Option(names = "--top-k", paramLabel = "K", description = "top-k, 0 = off (default 40)")
    int topK = 40;

    @Option(names = "--top-p", paramLabel = "P", description = "top-p / nucleus, 1 = off (default 0.95)")
    float topP = 0.95f;

    @Option(names = "--min-p", paramLabel = "P", description = "min-p, 0 = off (default 0.05)")
    float minP = 0.05f;

    @Option(names = "--repeat-penalty", paramLabel = "R", description = "repetition penalty, 1 = off (default 1.0)")
    float repeatPenalty = 1.0f;

    @Option(names = "--repeat-last-n", paramLabel = "N", description = "tokens the penalty looks back over (default 64, -1 = all)")
    int repeatLastN = 64;

    @Option(names = {"-s", "--seed"}, paramLabel = "S", description = "random seed (default: random)")
    Long seed;

    SamplerConfig config() {
        long s = seed != null ? seed : System.nanoTime() ^ Double.doubleToLongBits(Math.random());
        return new SamplerConfig(temperature, topK, topP, minP, repeatPenalty, repeatLastN, s);
    }
}
