package io.quant4j.model;

import io.quant4j.format.safetensors.SafetensorsCheckpoint;
import io.quant4j.tensor.WeightMatrix;

import java.lang.foreign.Arena;

/**
 * One of a Llama block's seven projections by its Hugging Face module name ({@code self_attn.q_proj} ...): its shape
 * [out × in] and, for q and k, the head count whose rows are in HF's rotate-half order rather than GGUF's interleaved
 * RoPE order (0 for the others). Shared by the checkpoint sources that read quantized projections (GPTQ,
 * bitsandbytes), which both fall back to a float weight for modules left unquantized.
 */
record HfProjection(int out, int in, int ropeHeads) {

    static HfProjection of(String module, LlamaConfig c) {
        int out = switch (module) {
            case "self_attn.q_proj" -> c.qDim();
            case "self_attn.k_proj", "self_attn.v_proj" -> c.kvDim();
            case "self_attn.o_proj", "mlp.down_proj" -> c.dim();
            default -> c.hiddenDim();
        };
        int in = switch (module) {
            case "self_attn.o_proj" -> c.qDim();
            case "mlp.down_proj" -> c.hiddenDim();
            default -> c.dim();
        };
        int ropeHeads = switch (module) {
            case "self_attn.q_proj" -> c.nHeads();
            case "self_attn.k_proj" -> c.nKvHeads();
            default -> 0;
        };
        return new HfProjection(out, in, ropeHeads);
    }

    boolean rope() {
        return ropeHeads > 0;
    }

    /** GGUF row r is HF row rowOf[r] (q and k only; null for the others). */
    int[] rowOf(LlamaConfig c) {
        return rope() ? RopeRowOrder.hfRowOfGgufRow(ropeHeads, c.headDim()) : null;
    }

    /** The unquantized float tensor {@code tensor} of this projection, q/k rows in GGUF's order. */
    WeightMatrix floatMatrix(SafetensorsCheckpoint ckpt, String tensor, LlamaConfig c, Arena arena) {
        return rope() ? HuggingFaceModelSource.ropeInterleaved(ckpt, tensor, ropeHeads, c.headDim(), in, arena)
                : HuggingFaceModelSource.matrix(ckpt, tensor, out, in);
    }
}
