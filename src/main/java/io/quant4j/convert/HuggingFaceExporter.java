package io.quant4j.convert;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.quant4j.format.Json;
import io.quant4j.format.safetensors.SafetensorsDtype;
import io.quant4j.format.safetensors.SafetensorsWriter;
import io.quant4j.model.LlamaConfig;
import io.quant4j.model.LlamaWeights;
import io.quant4j.model.RopeScaling;
import io.quant4j.peft.Projection;
import io.quant4j.peft.RopeRowOrder;
import io.quant4j.runtime.LoadedModel;
import io.quant4j.tensor.Fp16;
import io.quant4j.tensor.GgmlType;
import io.quant4j.tensor.WeightMatrix;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;

/**
 * Writes a loaded model (with a LoRA adapter merged, when it has one) as a Hugging Face {@code LlamaForCausalLM}
 * folder: config.json and one model.safetensors in F32, F16 or BF16, streamed row by row, q/k rows moved back to
 * HF's rotate-half order. Quantized tensors are written dequantized (Hugging Face has no GGML types). The tokenizer
 * files are copied when the model came from a Hugging Face folder; a GGUF or llama2.c tokenizer is not converted.
 */
public final class HuggingFaceExporter {
    private static final List<String> TOKENIZER_FILES = List.of("tokenizer.json", "tokenizer_config.json", "tokenizer.model",
            "special_tokens_map.json", "generation_config.json");

    private HuggingFaceExporter() {
    }

    /** Returns whether tokenizer files were copied. */
    public static boolean write(LoadedModel model, Path dir, GgmlType dtype) {
        LlamaConfig c = model.weights().config();
        LlamaWeights w = model.weights().weights();
        if (c.ropeDim() != c.headDim()) {
            throw new IllegalArgumentException("rope dimension " + c.ropeDim() + " < head size " + c.headDim() + ": Hugging Face's Llama rotates whole heads");
        }
        if (c.ropeFreqFactors() != null && c.ropeScaling().kind() != RopeScaling.Kind.LLAMA3) {
            throw new IllegalArgumentException("per-pair RoPE frequency factors have no Hugging Face Llama equivalent");
        }
        SafetensorsDtype st = switch (dtype) {
            case F32 -> SafetensorsDtype.F32;
            case F16 -> SafetensorsDtype.F16;
            case BF16 -> SafetensorsDtype.BF16;
            default -> throw new IllegalArgumentException("Hugging Face weights can be F32, F16 or BF16, not " + dtype);
        };
        try {
            Files.createDirectories(dir);
            SafetensorsWriter out = new SafetensorsWriter().metadata("format", "pt");
            matrix(out, "model.embed_tokens.weight", w.tokenEmbedding(), st, 0);
            for (int l = 0; l < c.nLayers(); l++) {
                LlamaWeights.Layer layer = w.layers().get(l);
                vector(out, "model.layers." + l + ".input_layernorm.weight", layer.attnNorm(), st);
                vector(out, "model.layers." + l + ".post_attention_layernorm.weight", layer.ffnNorm(), st);
                for (Projection p : Projection.values()) {
                    matrix(out, p.moduleName(l) + ".weight", p.of(layer), st, p.ropeOrdered() ? c.headDim() : 0);
                }
            }
            vector(out, "model.norm.weight", w.outputNorm(), st);
            if (!w.tiedEmbeddings()) {
                matrix(out, "lm_head.weight", w.output(), st, 0);
            }
            out.write(dir.resolve("model.safetensors"));
            Files.writeString(dir.resolve("config.json"),
                    Json.mapper().writerWithDefaultPrettyPrinter().writeValueAsString(config(c, w, model, dtype)) + "\n");
            boolean copied = false;
            Path source = model.path();
            if (Files.isDirectory(source)) {
                for (String f : TOKENIZER_FILES) {
                    if (Files.isRegularFile(source.resolve(f))) {
                        Files.copy(source.resolve(f), dir.resolve(f), StandardCopyOption.REPLACE_EXISTING);
                        copied = true;
                    }
                }
            }
            return copied;
        } catch (IOException e) {
            throw new UncheckedIOException(dir + ": cannot write: " + e.getMessage(), e);
        }
    }

    private static ObjectNode config(LlamaConfig c, LlamaWeights w, LoadedModel model, GgmlType dtype) {
        ObjectNode o = Json.mapper().createObjectNode();
        o.putArray("architectures").add("LlamaForCausalLM");
        o.put("model_type", "llama");
        o.put("hidden_size", c.dim());
        o.put("intermediate_size", c.hiddenDim());
        o.put("num_hidden_layers", c.nLayers());
        o.put("num_attention_heads", c.nHeads());
        o.put("num_key_value_heads", c.nKvHeads());
        o.put("head_dim", c.headDim());
        o.put("vocab_size", c.vocabSize());
        o.put("max_position_embeddings", c.contextLength());
        o.put("rms_norm_eps", c.rmsNormEps());
        o.put("rope_theta", c.ropeTheta());
        RopeScaling s = c.ropeScaling();
        if (s.kind() == RopeScaling.Kind.LINEAR) {
            o.putObject("rope_scaling").put("rope_type", "linear").put("factor", s.factor());
        } else if (s.kind() == RopeScaling.Kind.LLAMA3) {
            o.putObject("rope_scaling").put("rope_type", "llama3").put("factor", s.factor()).put("low_freq_factor", s.lowFreqFactor())
                    .put("high_freq_factor", s.highFreqFactor()).put("original_max_position_embeddings", s.originalContextLength());
        }
        o.put("hidden_act", "silu");
        o.put("tie_word_embeddings", w.tiedEmbeddings());
        if (model.tokenizer().bos() >= 0) {
            o.put("bos_token_id", model.tokenizer().bos());
        }
        if (model.tokenizer().eos() >= 0) {
            o.put("eos_token_id", model.tokenizer().eos());
        }
        o.put("attention_bias", false);
        o.put("mlp_bias", false);
        o.put("torch_dtype", switch (dtype) {
            case F16 -> "float16";
            case BF16 -> "bfloat16";
            default -> "float32";
        });
        return o;
    }

    /** A matrix streamed row by row; {@code headDim} > 0 puts GGUF row r at HF row hfRow(r). */
    private static void matrix(SafetensorsWriter out, String name, WeightMatrix m, SafetensorsDtype dtype, int headDim) {
        out.add(name, dtype, new long[] {m.rows(), m.cols()}, target -> {
            float[] row = new float[m.cols()];
            long rowBytes = (long) dtype.size * m.cols();
            for (int r = 0; r < m.rows(); r++) {
                m.dequantizeRow(r, row, 0);
                int to = headDim > 0 ? RopeRowOrder.hfRow(r, headDim) : r;
                encode(row, target, to * rowBytes, dtype);
            }
        });
    }

    private static void vector(SafetensorsWriter out, String name, float[] v, SafetensorsDtype dtype) {
        out.add(name, dtype, new long[] {v.length}, target -> encode(v, target, 0, dtype));
    }

    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfShort I16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private static void encode(float[] v, MemorySegment target, long offset, SafetensorsDtype dtype) {
        for (int i = 0; i < v.length; i++) {
            switch (dtype) {
                case F16 -> target.set(I16, offset + 2L * i, Fp16.fromFloat(v[i]));
                case BF16 -> target.set(I16, offset + 2L * i, Fp16.floatToBf16(v[i]));
                default -> target.set(F32, offset + 4L * i, v[i]);
            }
        }
    }
}
