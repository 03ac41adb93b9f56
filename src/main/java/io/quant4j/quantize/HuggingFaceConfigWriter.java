package io.quant4j.quantize;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.quant4j.format.Json;
import io.quant4j.model.LlamaConfig;
import io.quant4j.model.LlamaWeights;
import io.quant4j.model.RopeScaling;
import io.quant4j.tokenizer.Tokenizer;

import java.nio.file.Files;
import java.nio.file.Path;

/** The config.json of a written Hugging Face checkpoint (GPTQ, bitsandbytes): a complete LlamaForCausalLM config. */
public final class HuggingFaceConfigWriter {
    private HuggingFaceConfigWriter() {
    }

    /** The source's config.json when it is a Hugging Face folder, else one written from the hyper-parameters. */
    public static ObjectNode llama(LlamaConfig c, LlamaWeights w, Path sourceFolder, Tokenizer tokenizer) {
        if (sourceFolder != null && Files.isRegularFile(sourceFolder.resolve("config.json"))) {
            ObjectNode node = (ObjectNode) Json.readObjectFile(sourceFolder.resolve("config.json"), 4L << 20).deepCopy();
            node.remove("quantization_config");
            return node;
        }
        if (c.ropeFreqFactors() != null && c.ropeScaling().kind() != RopeScaling.Kind.LLAMA3) {
            throw new IllegalArgumentException("the model's per-pair RoPE frequency factors (rope_freqs) cannot be written to config.json");
        }
        ObjectNode n = Json.mapper().createObjectNode();
        n.putArray("architectures").add("LlamaForCausalLM");
        n.put("model_type", "llama");
        n.put("hidden_size", c.dim());
        n.put("intermediate_size", c.hiddenDim());
        n.put("num_hidden_layers", c.nLayers());
        n.put("num_attention_heads", c.nHeads());
        n.put("num_key_value_heads", c.nKvHeads());
        n.put("head_dim", c.headDim());
        n.put("vocab_size", c.vocabSize());
        n.put("max_position_embeddings", c.contextLength());
        n.put("rms_norm_eps", c.rmsNormEps());
        n.put("rope_theta", c.ropeTheta());
        switch (c.ropeScaling().kind()) {
            case NONE -> n.putNull("rope_scaling");
            case LINEAR -> n.putObject("rope_scaling").put("rope_type", "linear").put("factor", c.ropeScaling().factor());
            case LLAMA3 -> n.putObject("rope_scaling").put("rope_type", "llama3").put("factor", c.ropeScaling().factor())
                    .put("low_freq_factor", c.ropeScaling().lowFreqFactor()).put("high_freq_factor", c.ropeScaling().highFreqFactor())
                    .put("original_max_position_embeddings", c.ropeScaling().originalContextLength());
        }
        n.put("hidden_act", "silu");
        n.put("tie_word_embeddings", w.tiedEmbeddings());
        n.put("attention_bias", false);
        n.put("mlp_bias", false);
        if (tokenizer != null && tokenizer.bos() >= 0) {
            n.put("bos_token_id", tokenizer.bos());
        }
        if (tokenizer != null && tokenizer.eos() >= 0) {
            n.put("eos_token_id", tokenizer.eos());
        }
        n.put("use_cache", true);
        return n;
    }
}
