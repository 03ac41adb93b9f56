package io.quant4j.peft;

import io.quant4j.model.LlamaConfig;
import io.quant4j.model.LlamaWeights;
import io.quant4j.tensor.WeightMatrix;

/** The seven linear projections of a Llama decoder layer, with the names Hugging Face and PEFT give them. */
public enum Projection {
    Q_PROJ("q_proj", "self_attn.q_proj"),
    K_PROJ("k_proj", "self_attn.k_proj"),
    V_PROJ("v_proj", "self_attn.v_proj"),
    O_PROJ("o_proj", "self_attn.o_proj"),
    GATE_PROJ("gate_proj", "mlp.gate_proj"),
    UP_PROJ("up_proj", "mlp.up_proj"),
    DOWN_PROJ("down_proj", "mlp.down_proj");

    /** The name in PEFT's target_modules. */
    public final String shortName;
    /** The module path inside a decoder layer. */
    public final String path;

    Projection(String shortName, String path) {
        this.shortName = shortName;
        this.path = path;
    }

    /** {@code model.layers.N.self_attn.q_proj} */
    public String moduleName(int layer) {
        return "model.layers." + layer + "." + path;
    }

    public static Projection byShortName(String name) {
        for (Projection p : values()) {
            if (p.shortName.equals(name)) {
                return p;
            }
        }
        return null;
    }

    public WeightMatrix of(LlamaWeights.Layer l) {
        return switch (this) {
            case Q_PROJ -> l.attnQ();
            case K_PROJ -> l.attnK();
            case V_PROJ -> l.attnV();
            case O_PROJ -> l.attnOutput();
            case GATE_PROJ -> l.ffnGate();
            case UP_PROJ -> l.ffnUp();
            case DOWN_PROJ -> l.ffnDown();
        };
    }

    /** The layer with this projection replaced by {@code m}. */
    public LlamaWeights.Layer replace(LlamaWeights.Layer l, WeightMatrix m) {
        return new LlamaWeights.Layer(l.attnNorm(),
                this == Q_PROJ ? m : l.attnQ(),
                this == K_PROJ ? m : l.attnK(),
                this == V_PROJ ? m : l.attnV(),
                this == O_PROJ ? m : l.attnOutput(),
                l.ffnNorm(),
                this == GATE_PROJ ? m : l.ffnGate(),
                this == DOWN_PROJ ? m : l.ffnDown(),
                this == UP_PROJ ? m : l.ffnUp());
    }

    /** q and k rows are stored in GGUF's interleaved RoPE order here and in HF's rotate-half order in HF files. */
    public boolean ropeOrdered() {
        return this == Q_PROJ || this == K_PROJ;
    }

    /** The number of heads whose rows a q/k projection holds. */
    public int heads(LlamaConfig c) {
        return this == Q_PROJ ? c.nHeads() : c.nKvHeads();
    }
}
