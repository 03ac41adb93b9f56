package io.quant4j.eval;

import java.util.Locale;

/**
 * How a text is cut into chunks and which positions of a chunk are scored. Both protocols use non-overlapping
 * chunks of {@code ctx} tokens and a fresh cache per chunk; they differ in what the model sees first and what counts.
 */
public enum PerplexityProtocol {
    /** llama-perplexity: the first token of every chunk becomes BOS, only the second half is scored. */
    LLAMACPP("llamacpp"),
    /** The GPTQ paper's llama_eval: chunks fed as tokenized, every position scored. */
    GPTQ("gptq");

    private final String cliName;

    PerplexityProtocol(String cliName) {
        this.cliName = cliName;
    }

    public String cliName() {
        return cliName;
    }

    /** First position (0-based) whose next-token prediction is scored. */
    public int firstScored(int ctx) {
        return this == LLAMACPP ? ctx / 2 : 0;
    }

    /** Scored positions per chunk: {@code firstScored .. ctx-2}, each predicting the token after it. */
    public int scoredPerChunk(int ctx) {
        return ctx - 1 - firstScored(ctx);
    }

    /** Whether the chunk's first token is replaced by BOS before it is fed (llama.cpp restores it afterwards). */
    public boolean replacesFirstTokenWithBos() {
        return this == LLAMACPP;
    }

    public static PerplexityProtocol parse(String name) {
        for (PerplexityProtocol p : values()) {
            if (p.cliName.equals(name.trim().toLowerCase(Locale.ROOT))) {
                return p;
            }
        }
        throw new IllegalArgumentException("unknown protocol '" + name + "' (llamacpp or gptq)");
    }
}
