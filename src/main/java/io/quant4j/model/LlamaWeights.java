package io.quant4j.model;

import io.quant4j.tensor.WeightMatrix;

import java.util.List;

/**
 * The weights of a Llama decoder, independent of the file they came from. Matrices are [out × in]
 * (one row per output feature); q/k rows are in GGUF's interleaved-pair RoPE layout. Norm weights are
 * plain float arrays. {@code output} is the same object as {@code tokenEmbedding} when embeddings are tied.
 */
public record LlamaWeights(
        WeightMatrix tokenEmbedding,
        List<Layer> layers,
        float[] outputNorm,
        WeightMatrix output) {

    /** One decoder block, named as GGUF names them (HF names in comments). */
    public record Layer(
            float[] attnNorm,        // input_layernorm
            WeightMatrix attnQ,      // self_attn.q_proj
            WeightMatrix attnK,      // self_attn.k_proj
            WeightMatrix attnV,      // self_attn.v_proj
            WeightMatrix attnOutput, // self_attn.o_proj
            float[] ffnNorm,         // post_attention_layernorm
            WeightMatrix ffnGate,    // mlp.gate_proj (w1)
            WeightMatrix ffnDown,    // mlp.down_proj (w2)
            WeightMatrix ffnUp) {    // mlp.up_proj (w3)

        public List<WeightMatrix> matrices() {
            return List.of(attnQ, attnK, attnV, attnOutput, ffnGate, ffnDown, ffnUp);
        }
    }

    public boolean tiedEmbeddings() {
        return output == tokenEmbedding;
    }
}
