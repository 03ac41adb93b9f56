package io.quant4j.quantize.bnb;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.quant4j.format.Json;
import io.quant4j.format.safetensors.SafetensorsDtype;
import io.quant4j.format.safetensors.SafetensorsWriter;
import io.quant4j.model.LlamaConfig;
import io.quant4j.model.LlamaWeights;
import io.quant4j.model.ModelWeights;
import io.quant4j.tensor.Fp16;
import io.quant4j.tensor.WeightMatrix;
import io.quant4j.tensor.bnb.Blockwise4bitMatrix;
import io.quant4j.tensor.bnb.Int8Matrix;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Saves a model quantized by {@link BnbModel} as transformers saves a bitsandbytes model (save_pretrained): per
 * 4-bit projection {@code weight} (packed uint8 [(n+1)/2, 1]), {@code weight.absmax}, {@code weight.quant_map},
 * with double quantization {@code weight.nested_absmax} and {@code weight.nested_quant_map}, and
 * {@code weight.quant_state.bitsandbytes__nf4|fp4} (the non-tensor state as UTF-8 JSON bytes, as bitsandbytes'
 * pack_dict_to_tensor); per int8 projection {@code weight} (int8 [out, in]), {@code SCB} (fp32 [out]) and
 * {@code weight_format} (uint8 scalar 0 = row-major). config.json carries transformers' BitsAndBytesConfig.
 * Everything else is written in the dtype the weights were quantized from.
 */
public final class BnbCheckpointWriter {
    private static final ValueLayout.OfShort F16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final List<String> TOKENIZER_FILES = List.of("tokenizer.json", "tokenizer.model", "tokenizer_config.json",
            "special_tokens_map.json", "generation_config.json");
    private static final String[] MODULES = {"self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj", "self_attn.o_proj",
            "mlp.gate_proj", "mlp.down_proj", "mlp.up_proj"};

    private BnbCheckpointWriter() {
    }

    /** {@code sourceDtype} is the torch dtype name the weights were quantized from (float32, float16, bfloat16). */
    public static List<Path> write(Path dir, ModelWeights model, BnbOptions o, String sourceDtype, Path sourceFolder,
                                   ObjectNode baseConfig) throws IOException {
        SafetensorsDtype floats = switch (sourceDtype) {
            case "float32" -> SafetensorsDtype.F32;
            case "bfloat16" -> SafetensorsDtype.BF16;
            default -> SafetensorsDtype.F16;
        };
        Files.createDirectories(dir);
        LlamaConfig c = model.config();
        LlamaWeights w = model.weights();
        SafetensorsWriter st = new SafetensorsWriter().metadata("format", "pt").metadata("quantized_by", "quant4j");
        addFloat(st, "model.embed_tokens.weight", w.tokenEmbedding(), floats);
        addVector(st, "model.norm.weight", w.outputNorm(), floats);
        if (!w.tiedEmbeddings()) {
            addFloat(st, "lm_head.weight", w.output(), floats);
        }
        for (int l = 0; l < c.nLayers(); l++) {
            LlamaWeights.Layer layer = w.layers().get(l);
            String p = "model.layers." + l + ".";
            addVector(st, p + "input_layernorm.weight", layer.attnNorm(), floats);
            addVector(st, p + "post_attention_layernorm.weight", layer.ffnNorm(), floats);
            WeightMatrix[] m = {layer.attnQ(), layer.attnK(), layer.attnV(), layer.attnOutput(), layer.ffnGate(), layer.ffnDown(), layer.ffnUp()};
            for (int j = 0; j < MODULES.length; j++) {
                String name = p + MODULES[j];
                switch (m[j]) {
                    case Blockwise4bitMatrix b -> addFourBit(st, name, b, sourceDtype);
                    case Int8Matrix i -> {
                        st.add(name + ".weight", SafetensorsDtype.I8, new long[] {i.rows(), i.cols()}, i.cb());
                        st.add(name + ".SCB", SafetensorsDtype.F32, new long[] {i.rows()}, i.scb());
                        st.add(name + ".weight_format", SafetensorsDtype.U8, new long[] {}, t -> t.set(ValueLayout.JAVA_BYTE, 0, (byte) 0));
                    }
                    default -> throw new IllegalArgumentException(name + " is " + m[j].format() + ", not a bitsandbytes matrix");
                }
            }
        }
        List<Path> written = new ArrayList<>();
        st.write(dir.resolve("model.safetensors"));
        written.add(dir.resolve("model.safetensors"));
        ObjectNode config = baseConfig.deepCopy();
        config.remove("quantization_config");
        config.put("torch_dtype", sourceDtype);
        config.set("quantization_config", quantizationConfig(o));
        Path cfg = dir.resolve("config.json");
        Files.write(cfg, Json.mapper().writerWithDefaultPrettyPrinter().writeValueAsBytes(config));
        written.add(cfg);
        if (sourceFolder != null && !sourceFolder.toAbsolutePath().normalize().equals(dir.toAbsolutePath().normalize())) {
            for (String f : TOKENIZER_FILES) {
                if (Files.isRegularFile(sourceFolder.resolve(f))) {
                    Files.copy(sourceFolder.resolve(f), dir.resolve(f), StandardCopyOption.REPLACE_EXISTING);
                    written.add(dir.resolve(f));
                }
            }
        }
        return written;
    }

    private static void addFourBit(SafetensorsWriter st, String name, Blockwise4bitMatrix b, String sourceDtype) {
        String wn = name + ".weight";
        st.add(wn, SafetensorsDtype.U8, new long[] {b.packed().byteSize(), 1}, b.packed());
        Blockwise4bitMatrix.Absmax a = b.absmax();
        Map<String, Object> state = new LinkedHashMap<>();
        state.put("quant_type", b.quantType());
        state.put("blocksize", b.blocksize());
        state.put("dtype", sourceDtype);
        state.put("shape", List.of(b.rows(), b.cols()));
        st.addF32(wn + ".quant_map", b.code(), 16);
        if (a.nested()) {
            st.add(wn + ".absmax", SafetensorsDtype.U8, new long[] {a.codes().byteSize()}, a.codes());
            st.add(wn + ".nested_absmax", SafetensorsDtype.F32, new long[] {a.nestedAbsmax().byteSize() / 4}, a.nestedAbsmax());
            st.addF32(wn + ".nested_quant_map", a.codeMap(), a.codeMap().length);
            state.put("nested_blocksize", a.nestedBlocksize());
            state.put("nested_dtype", "float32");
            state.put("nested_offset", (double) a.offset());
        } else {
            st.add(wn + ".absmax", SafetensorsDtype.F32, new long[] {a.values().byteSize() / 4}, a.values());
        }
        byte[] json = pythonJson(state).getBytes(StandardCharsets.UTF_8);
        st.add(wn + ".quant_state.bitsandbytes__" + b.quantType(), SafetensorsDtype.U8, new long[] {json.length},
                t -> MemorySegment.copy(json, 0, t, ValueLayout.JAVA_BYTE, 0, json.length));
    }

    /** json.dumps' default spelling (", " and ": " separators), which bitsandbytes' pack_dict_to_tensor stores. */
    static String pythonJson(Map<String, Object> m) {
        StringBuilder sb = new StringBuilder("{");
        boolean first = true;
        for (Map.Entry<String, Object> e : m.entrySet()) {
            if (!first) {
                sb.append(", ");
            }
            first = false;
            sb.append('"').append(e.getKey()).append("\": ");
            Object v = e.getValue();
            if (v instanceof String s) {
                sb.append('"').append(s).append('"');
            } else if (v instanceof List<?> list) {
                sb.append('[');
                for (int i = 0; i < list.size(); i++) {
                    sb.append(i > 0 ? ", " : "").append(list.get(i));
                }
                sb.append(']');
            } else {
                sb.append(v);
            }
        }
        return sb.append('}').toString();
    }

    /** transformers' BitsAndBytesConfig.to_dict for what was done. */
    static ObjectNode quantizationConfig(BnbOptions o) {
        ObjectNode q = Json.mapper().createObjectNode();
        boolean four = o.mode() == BnbOptions.Mode.FOUR_BIT;
        q.put("quant_method", "bitsandbytes");
        q.put("_load_in_8bit", !four);
        q.put("_load_in_4bit", four);
        q.put("load_in_8bit", !four);
        q.put("load_in_4bit", four);
        q.put("llm_int8_threshold", o.threshold());
        q.putNull("llm_int8_skip_modules");
        q.put("llm_int8_enable_fp32_cpu_offload", false);
        q.put("llm_int8_has_fp16_weight", false);
        q.put("bnb_4bit_quant_type", four ? o.quantType() : "fp4");
        q.put("bnb_4bit_use_double_quant", four && o.doubleQuant());
        q.put("bnb_4bit_compute_dtype", "float32");
        q.put("bnb_4bit_quant_storage", "uint8");
        return q;
    }

    private static void addFloat(SafetensorsWriter st, String name, WeightMatrix m, SafetensorsDtype dtype) {
        int rows = m.rows();
        int cols = m.cols();
        st.add(name, dtype, new long[] {rows, cols}, target -> {
            float[] row = new float[cols];
            for (int r = 0; r < rows; r++) {
                m.dequantizeRow(r, row, 0);
                put(target, (long) r * cols, row, dtype);
            }
        });
    }

    private static void addVector(SafetensorsWriter st, String name, float[] v, SafetensorsDtype dtype) {
        st.add(name, dtype, new long[] {v.length}, t -> put(t, 0, v, dtype));
    }

    private static void put(MemorySegment t, long index, float[] values, SafetensorsDtype dtype) {
        for (int j = 0; j < values.length; j++) {
            long at = index + j;
            switch (dtype) {
                case F32 -> t.set(F32, 4 * at, values[j]);
                case BF16 -> t.set(F16, 2 * at, Fp16.floatToBf16(values[j]));
                default -> t.set(F16, 2 * at, Fp16.fromFloat(values[j]));
            }
        }
    }
}
