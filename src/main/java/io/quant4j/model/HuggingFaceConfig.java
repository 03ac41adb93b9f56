package io.quant4j.model;

import com.fasterxml.jackson.databind.JsonNode;
import io.quant4j.format.Json;
import io.quant4j.format.ModelFormatException;

import java.nio.file.Path;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

import static io.quant4j.format.ModelFormatException.quote;

/**
 * A Hugging Face {@code config.json} for a Llama-family model, read into a {@link LlamaConfig}. Optional keys take
 * the defaults of transformers' LlamaConfig (so a file transformers accepts is accepted here); anything quant4j
 * would compute differently from transformers (biases, other activations, unsupported RoPE scalings, quantization
 * methods it cannot read) is refused with a message naming config.json and the key. {@code quantization} is the
 * {@code quantization_config} object of a quantized checkpoint quant4j reads, or null.
 */
public record HuggingFaceConfig(LlamaConfig config, boolean tieWordEmbeddings, Map<String, String> display,
                                JsonNode quantization) {
    public static final String FILE_NAME = "config.json";
    private static final Set<String> MODEL_TYPES = Set.of("llama", "mistral");
    /** quantization_config methods whose checkpoints quant4j reads. */
    static final java.util.List<String> QUANT_METHODS = java.util.List.of("gptq", "bitsandbytes");
    private static final int MAX_SIZE = 1 << 24;
    private static final long MAX_CONFIG_BYTES = 4L << 20;

    public static HuggingFaceConfig read(Path file) {
        return parse(file, Json.readObjectFile(file, MAX_CONFIG_BYTES));
    }

    static HuggingFaceConfig parse(Path file, JsonNode root) {
        Reader r = new Reader(file, root);
        String modelType = r.string("model_type");
        if (!MODEL_TYPES.contains(modelType)) {
            throw r.fail("model_type", "is " + quote(modelType) + "; quant4j loads " + MODEL_TYPES);
        }
        JsonNode quantization = null;
        if (r.present("quantization_config")) {
            JsonNode q = root.get("quantization_config");
            String method = q.isObject() && q.has("quant_method") ? q.get("quant_method").asText() : "unknown";
            if (!QUANT_METHODS.contains(method)) {
                throw r.fail("quantization_config", "declares a quantized checkpoint (quant_method " + quote(method)
                        + "), which quant4j does not read (it reads " + String.join(", ", QUANT_METHODS) + ")");
            }
            quantization = q;
        }
        if (r.present("hidden_act") && !r.string("hidden_act").equals("silu")) {
            throw r.fail("hidden_act", "is " + quote(r.string("hidden_act")) + "; Llama models use silu");
        }
        for (String bias : new String[]{"attention_bias", "mlp_bias"}) {
            if (r.present(bias) && r.bool(bias)) {
                throw r.fail(bias, "is true; quant4j's Llama has no bias terms");
            }
        }
        int dim = r.integer("hidden_size", 1, MAX_SIZE);
        int heads = r.integer("num_attention_heads", 1, 1 << 12);
        int kvHeads = r.present("num_key_value_heads") ? r.integer("num_key_value_heads", 1, 1 << 12) : heads;
        int headDim;
        if (r.present("head_dim")) {
            headDim = r.integer("head_dim", 1, 1 << 14);
        } else if (dim % heads == 0) {
            headDim = dim / heads;
        } else {
            throw r.fail("num_attention_heads", "(" + heads + ") does not divide hidden_size (" + dim + ") and there is no head_dim");
        }
        int context = r.present("max_position_embeddings") ? r.integer("max_position_embeddings", 1, MAX_SIZE) : 2048;
        if (modelType.equals("mistral") && r.present("sliding_window")) {
            // Mistral attends to the last sliding_window tokens only; within that window full attention is
            // identical, so capping the context keeps results exact instead of silently diverging later.
            context = Math.min(context, r.integer("sliding_window", 1, MAX_SIZE));
        }
        try {
            LlamaConfig config = new LlamaConfig(modelType, dim,
                    r.integer("intermediate_size", 1, MAX_SIZE),
                    r.integer("num_hidden_layers", 1, 1 << 12),
                    heads, kvHeads, headDim,
                    r.integer("vocab_size", 1, MAX_SIZE),
                    context,
                    r.present("rms_norm_eps") ? r.number("rms_norm_eps") : 1e-6f,
                    r.present("rope_theta") ? r.number("rope_theta") : 10000f,
                    headDim, ropeScaling(r), null);
            boolean tied = r.present("tie_word_embeddings") && r.bool("tie_word_embeddings");
            return new HuggingFaceConfig(config, tied, display(root), quantization);
        } catch (IllegalArgumentException e) {
            throw new ModelFormatException(file, "inconsistent hyper-parameters: " + e.getMessage());
        }
    }

    private static RopeScaling ropeScaling(Reader top) {
        if (!top.present("rope_scaling")) {
            return RopeScaling.NONE;
        }
        JsonNode node = top.root.get("rope_scaling");
        if (!node.isObject()) {
            throw top.fail("rope_scaling", "must be an object or null");
        }
        Reader r = new Reader(top.file, node, "rope_scaling.");
        String type = r.present("rope_type") ? r.string("rope_type") : r.string("type");
        return switch (type) {
            case "default" -> RopeScaling.NONE;
            case "linear" -> RopeScaling.linear(r.positive("factor"));
            case "llama3" -> {
                float low = r.positive("low_freq_factor");
                float high = r.positive("high_freq_factor");
                if (high <= low) {
                    throw r.fail("high_freq_factor", "(" + high + ") must be larger than low_freq_factor (" + low + ")");
                }
                yield RopeScaling.llama3(r.positive("factor"), low, high, r.integer("original_max_position_embeddings", 1, MAX_SIZE));
            }
            default -> throw r.fail("rope_type", quote(type) + " is not supported (quant4j supports default, linear and llama3)");
        };
    }

    private static Map<String, String> display(JsonNode root) {
        Map<String, String> out = new LinkedHashMap<>();
        for (Map.Entry<String, JsonNode> e : root.properties()) {
            JsonNode v = e.getValue();
            out.put(e.getKey(), v.isTextual() ? v.textValue() : v.toString());
        }
        return Collections.unmodifiableMap(out);
    }

    /** Typed access to one JSON object whose failures name the file and the (dotted) key. */
    private record Reader(Path file, JsonNode root, String prefix) {
        Reader(Path file, JsonNode root) {
            this(file, root, "");
        }

        ModelFormatException fail(String key, String problem) {
            return new ModelFormatException(file, quote(prefix + key) + " " + problem);
        }

        boolean present(String key) {
            JsonNode n = root.get(key);
            return n != null && !n.isNull();
        }

        private JsonNode require(String key) {
            if (!present(key)) {
                throw new ModelFormatException(file, "missing key " + quote(prefix + key));
            }
            return root.get(key);
        }

        String string(String key) {
            JsonNode n = require(key);
            if (!n.isTextual()) {
                throw fail(key, "must be a string, got " + quote(n.toString()));
            }
            return n.textValue();
        }

        boolean bool(String key) {
            JsonNode n = require(key);
            if (!n.isBoolean()) {
                throw fail(key, "must be true or false, got " + quote(n.toString()));
            }
            return n.booleanValue();
        }

        int integer(String key, int min, int max) {
            JsonNode n = require(key);
            if (!n.isIntegralNumber() || !n.canConvertToInt() || n.intValue() < min || n.intValue() > max) {
                throw fail(key, "must be an integer in [" + min + ", " + max + "], got " + quote(n.toString()));
            }
            return n.intValue();
        }

        float number(String key) {
            JsonNode n = require(key);
            if (!n.isNumber() || !Float.isFinite((float) n.doubleValue())) {
                throw fail(key, "must be a finite number, got " + quote(n.toString()));
            }
            return (float) n.doubleValue();
        }

        float positive(String key) {
            float v = number(key);
            if (v <= 0) {
                throw fail(key, "must be positive, got " + v);
            }
            return v;
        }
    }
}
