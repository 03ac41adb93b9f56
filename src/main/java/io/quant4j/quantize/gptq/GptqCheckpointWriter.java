package io.quant4j.quantize.gptq;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.quant4j.format.Json;
import io.quant4j.format.safetensors.SafetensorsDtype;
import io.quant4j.format.safetensors.SafetensorsWriter;
import io.quant4j.model.LlamaConfig;
import io.quant4j.model.LlamaWeights;
import io.quant4j.model.ModelWeights;
import io.quant4j.model.RopeRowOrder;
import io.quant4j.quantize.HuggingFaceConfigWriter;
import io.quant4j.tensor.Fp16;
import io.quant4j.tensor.WeightMatrix;
import io.quant4j.tensor.gptq.GptqLayer;
import io.quant4j.tokenizer.Tokenizer;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.stream.Collectors;

/**
 * Writes an AutoGPTQ / transformers GPTQ checkpoint folder: {@code model.safetensors} (metadata format "pt", as
 * transformers requires), {@code config.json} — a complete LlamaForCausalLM config with {@code quantization_config} —
 * {@code quantize_config.json} (AutoGPTQ / GPTQModel), and the tokenizer files of a Hugging Face source.
 *
 * <p>Quantized projections are stored as {@code qweight}, {@code qzeros}, {@code scales}, {@code g_idx}; everything
 * else (embeddings, norms, lm_head, and projections left unquantized) as fp16 {@code weight}, the dtype GPTQ
 * checkpoints are run in. q_proj/k_proj rows go back to Hugging Face's rotate-half order. Projections left
 * unquantized are declared in the config: GPTQModel's {@code dynamic} negative patterns ({@code "-:regex"}) always,
 * and transformers' {@code modules_in_block_to_quantize} when every quantized block quantizes the same ones.
 */
public final class GptqCheckpointWriter {
    private static final ValueLayout.OfShort F16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfInt I32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    public static final String QUANTIZE_CONFIG = "quantize_config.json";
    private static final List<String> TOKENIZER_FILES = List.of("tokenizer.json", "tokenizer.model", "tokenizer_config.json",
            "special_tokens_map.json", "generation_config.json");

    /** What the calibration was, for the config. */
    public record Calibration(String dataset, int nsamples, int seqlen) {
    }

    private GptqCheckpointWriter() {
    }

    /** Writes the folder (created if missing); returns the files written. */
    public static List<Path> write(Path dir, ModelWeights source, Path sourceFolder, Tokenizer tokenizer,
                                   GptqQuantizer.Result result, Calibration calibration) throws IOException {
        Files.createDirectories(dir);
        LlamaConfig c = source.config();
        LlamaWeights w = source.weights();
        SafetensorsWriter st = new SafetensorsWriter().metadata("format", "pt").metadata("quantized_by", "quant4j");
        addFloat(st, "model.embed_tokens.weight", w.tokenEmbedding(), null);
        addVector(st, "model.norm.weight", w.outputNorm());
        if (!w.tiedEmbeddings()) {
            addFloat(st, "lm_head.weight", w.output(), null);
        }
        for (int l = 0; l < c.nLayers(); l++) {
            LlamaWeights.Layer layer = w.layers().get(l);
            String p = "model.layers." + l + ".";
            addVector(st, p + "input_layernorm.weight", layer.attnNorm());
            addVector(st, p + "post_attention_layernorm.weight", layer.ffnNorm());
            for (Projection proj : Projection.values()) {
                String name = proj.moduleName(l);
                GptqLayer q = result.layer(l, proj);
                if (q == null) {
                    int[] rows = proj.ropePermuted() ? RopeRowOrder.ggufRowOfHfRow(proj.heads(c), c.headDim()) : null;
                    addFloat(st, name + ".weight", proj.of(layer), rows);
                } else {
                    st.add(name + ".qweight", SafetensorsDtype.I32, q.qweightShape(), q.qweight());
                    st.add(name + ".qzeros", SafetensorsDtype.I32, q.qzerosShape(), q.qzeros());
                    st.add(name + ".scales", SafetensorsDtype.F16, q.scalesShape(), q.scales());
                    int[] g = q.gIdx();
                    st.add(name + ".g_idx", SafetensorsDtype.I32, new long[] {g.length},
                            target -> MemorySegment.copy(g, 0, target, I32, 0, g.length));
                }
            }
        }
        List<Path> written = new ArrayList<>();
        Path model = dir.resolve("model.safetensors");
        st.write(model);
        written.add(model);

        ObjectNode quant = quantizationConfig(result, calibration);
        ObjectNode config = HuggingFaceConfigWriter.llama(c, w, sourceFolder, tokenizer);
        config.put("torch_dtype", "float16");
        config.set("quantization_config", quant);
        written.add(writeJson(dir.resolve("config.json"), config));
        written.add(writeJson(dir.resolve(QUANTIZE_CONFIG), autoGptqConfig(quant)));
        if (sourceFolder != null && !sourceFolder.toAbsolutePath().normalize().equals(dir.toAbsolutePath().normalize())) {
            for (String f : TOKENIZER_FILES) {
                Path from = sourceFolder.resolve(f);
                if (Files.isRegularFile(from)) {
                    Files.copy(from, dir.resolve(f), StandardCopyOption.REPLACE_EXISTING);
                    written.add(dir.resolve(f));
                }
            }
        }
        return written;
    }

    private static Path writeJson(Path file, JsonNode node) throws IOException {
        Path tmp = Files.createTempFile(file.toAbsolutePath().getParent(), "." + file.getFileName(), ".tmp");
        try {
            Files.write(tmp, Json.mapper().writerWithDefaultPrettyPrinter().writeValueAsBytes(node));
            Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } finally {
            Files.deleteIfExists(tmp);
        }
        return file;
    }

    /** A weight as fp16 rows; {@code rowFrom[r]} (when given) is the source row of output row r. */
    private static void addFloat(SafetensorsWriter st, String name, WeightMatrix m, int[] rowFrom) {
        int rows = m.rows();
        int cols = m.cols();
        st.add(name, SafetensorsDtype.F16, new long[] {rows, cols}, target -> {
            float[] row = new float[cols];
            for (int r = 0; r < rows; r++) {
                m.dequantizeRow(rowFrom == null ? r : rowFrom[r], row, 0);
                long base = 2L * r * cols;
                for (int j = 0; j < cols; j++) {
                    target.set(F16, base + 2L * j, Fp16.fromFloat(row[j]));
                }
            }
        });
    }

    private static void addVector(SafetensorsWriter st, String name, float[] v) {
        st.add(name, SafetensorsDtype.F16, new long[] {v.length}, target -> {
            for (int j = 0; j < v.length; j++) {
                target.set(F16, 2L * j, Fp16.fromFloat(v[j]));
            }
        });
    }

    /** transformers' GPTQConfig fields, plus GPTQModel's dynamic exclusions and meta. */
    static ObjectNode quantizationConfig(GptqQuantizer.Result r, Calibration calibration) {
        GptqOptions o = r.options();
        ObjectNode q = Json.mapper().createObjectNode();
        q.put("quant_method", "gptq");
        q.put("bits", o.bits());
        q.put("group_size", o.groupSize());
        q.put("damp_percent", o.damp());
        q.put("desc_act", o.actOrder());
        q.put("static_groups", o.staticGroups());
        q.put("sym", o.sym());
        q.put("true_sequential", o.trueSequential());
        q.put("checkpoint_format", r.v1() ? "gptq" : "gptq_v2");
        q.put("lm_head", false);
        if (calibration != null) {
            q.put("dataset", calibration.dataset());
            q.put("model_seqlen", calibration.seqlen());
        }
        Map<String, TreeSet<Integer>> excludedLayersByModules = exclusions(r);
        if (!excludedLayersByModules.isEmpty()) {
            ObjectNode dynamic = q.putObject("dynamic");
            excludedLayersByModules.forEach((modules, layers) -> dynamic.putObject("-:" + pattern(layers, modules)));
            List<String> uniform = uniformModules(r);
            if (uniform != null) {
                ArrayNode groups = q.putArray("modules_in_block_to_quantize");
                for (int stage = 0; stage < Projection.STAGES; stage++) {
                    ArrayNode g = Json.mapper().createArrayNode();
                    for (Projection p : Projection.values()) {
                        if (p.stage == stage && uniform.contains(p.module)) {
                            g.add(p.module);
                        }
                    }
                    if (!g.isEmpty()) {
                        groups.add(g);
                    }
                }
            }
        }
        ObjectNode meta = q.putObject("meta");
        meta.putArray("quantizer").add("quant4j:0.1.0");
        meta.put("method", o.method().name().toLowerCase());
        if (calibration != null) {
            meta.put("nsamples", calibration.nsamples());
        }
        return q;
    }

    /** For each set of unquantized projections (joined with '|'), the layers where exactly that set is unquantized. */
    private static Map<String, TreeSet<Integer>> exclusions(GptqQuantizer.Result r) {
        Map<String, TreeSet<Integer>> out = new LinkedHashMap<>();
        for (int l = 0; l < r.config().nLayers(); l++) {
            List<String> excluded = new ArrayList<>();
            for (Projection p : Projection.values()) {
                if (!r.quantized(l, p)) {
                    excluded.add(p.module);
                }
            }
            if (!excluded.isEmpty()) {
                String key = excluded.size() == Projection.values().length ? "" : String.join("|", excluded);
                out.computeIfAbsent(key, k -> new TreeSet<>()).add(l);
            }
        }
        return out;
    }

    /** A Python/Java regex matching the modules (all of the layer when empty) of those layers, from the start of the name. */
    static String pattern(TreeSet<Integer> layers, String modules) {
        String layerAlt = layers.stream().map(String::valueOf).collect(Collectors.joining("|"));
        String tail = modules.isEmpty() ? ".*" : "(" + modules.replace(".", "\\.") + ")$";
        return "model\\.layers\\.(" + layerAlt + ")\\." + tail;
    }

    /** The projections every layer that quantizes anything quantizes, when that is the same set everywhere; else null. */
    private static List<String> uniformModules(GptqQuantizer.Result r) {
        List<String> common = null;
        for (int l = 0; l < r.config().nLayers(); l++) {
            List<String> mods = new ArrayList<>();
            for (Projection p : Projection.values()) {
                if (r.quantized(l, p)) {
                    mods.add(p.module);
                }
            }
            if (mods.isEmpty()) {
                continue;
            }
            if (common == null) {
                common = mods;
            } else if (!common.equals(mods)) {
                return null;
            }
        }
        return common != null && common.size() < Projection.values().length ? common : null;
    }

    /** AutoGPTQ's BaseQuantizeConfig.to_dict, plus the GPTQModel keys the loader of either needs. */
    private static ObjectNode autoGptqConfig(ObjectNode quant) {
        ObjectNode a = Json.mapper().createObjectNode();
        for (String k : List.of("bits", "group_size", "damp_percent", "desc_act", "static_groups", "sym", "true_sequential")) {
            a.set(k, quant.get(k));
        }
        a.putNull("model_name_or_path");
        a.put("model_file_base_name", "model");
        a.put("quant_method", "gptq");
        a.set("checkpoint_format", quant.get("checkpoint_format"));
        a.put("lm_head", false);
        if (quant.has("dynamic")) {
            a.set("dynamic", quant.get("dynamic"));
        }
        a.set("meta", quant.get("meta"));
        return a;
    }
}
