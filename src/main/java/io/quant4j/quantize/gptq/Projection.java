package io.quant4j.quantize.gptq;

import io.quant4j.model.LlamaConfig;
import io.quant4j.model.LlamaWeights;
import io.quant4j.tensor.WeightMatrix;

/**
 * The seven linear layers of a Llama block with their Hugging Face module names, in the order GPTQ's
 * true-sequential schedule quantizes them: [k, v, q] → [o] → [up, gate] → [down].
 */
public enum Projection {
    K("self_attn.k_proj", 0),
    V("self_attn.v_proj", 0),
    Q("self_attn.q_proj", 0),
    O("self_attn.o_proj", 1),
    UP("mlp.up_proj", 2),
    GATE("mlp.gate_proj", 2),
    DOWN("mlp.down_proj", 3);

    /** Name under {@code model.layers.N.}. */
    public final String module;
    /** Index of the true-sequential group (sub-layers that read the same input). */
    public final int stage;

    Projection(String module, int stage) {
        this.module = module;
        this.stage = stage;
    }

    public static final int STAGES = 4;

    public String moduleName(int layer) {
        return "model.layers." + layer + "." + module;
    }

    /** q and k rows are stored in HF's rotate-half order and in GGUF's interleaved order inside quant4j. */
    public boolean ropePermuted() {
        return this == Q || this == K;
    }

    public int outFeatures(LlamaConfig c) {
        return switch (this) {
            case Q -> c.qDim();
            case K, V -> c.kvDim();
            case O, DOWN -> c.dim();
            case UP, GATE -> c.hiddenDim();
        };
    }

    public int inFeatures(LlamaConfig c) {
        return switch (this) {
            case Q, K, V, UP, GATE -> c.dim();
            case O -> c.qDim();
            case DOWN -> c.hiddenDim();
        };
    }

    public int heads(LlamaConfig c) {
        return this == Q ? c.nHeads() : c.nKvHeads();
    }

    public WeightMatrix of(LlamaWeights.Layer l) {
        return switch (this) {
            case Q -> l.attnQ();
            case K -> l.attnK();
            case V -> l.attnV();
            case O -> l.attnOutput();
            case GATE -> l.ffnGate();
            case UP -> l.ffnUp();
            case DOWN -> l.ffnDown();
        };
    }
}
