package io.quant4j.peft;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.quant4j.format.Json;
import io.quant4j.format.ModelFormatException;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * PEFT's {@code adapter_config.json} for a LoRA adapter (LoraConfig): the fields quant4j reads and writes. Written
 * with PEFT's other defaults (bias "none", no DoRA, no rsLoRA) so that PEFT loads it as its own.
 *
 * @param targetModules      target_modules as a list of module names (q_proj, ...); PEFT's "all-linear" is expanded
 * @param targetRegex        target_modules given as one regular expression (PEFT full-matches module names), or null
 * @param layersToTransform  layers_to_transform, or null for all layers
 * @param modulesToSave      modules_to_save (full copies, e.g. lm_head), empty when none
 */
public record PeftConfig(int r, double loraAlpha, double loraDropout, List<String> targetModules, String targetRegex,
                         List<Integer> layersToTransform, List<String> modulesToSave, String baseModelNameOrPath,
                         boolean useRslora) {
    public static final String FILE_NAME = "adapter_config.json";

    public PeftConfig {
        targetModules = List.copyOf(targetModules);
        layersToTransform = layersToTransform == null ? null : List.copyOf(layersToTransform);
        modulesToSave = List.copyOf(modulesToSave);
    }

    /** PEFT's scaling: lora_alpha / r (or / √r with use_rslora). */
    public double scaling() {
        return useRslora ? loraAlpha / Math.sqrt(r) : loraAlpha / r;
    }

    public ObjectNode toJson() {
        ObjectNode o = Json.mapper().createObjectNode();
        o.putObject("alpha_pattern");
        o.putNull("auto_mapping");
        o.put("base_model_name_or_path", baseModelNameOrPath);
        o.put("bias", "none");
        o.put("fan_in_fan_out", false);
        o.put("inference_mode", true);
        o.put("init_lora_weights", true);
        o.putNull("layers_pattern");
        if (layersToTransform == null) {
            o.putNull("layers_to_transform");
        } else {
            ArrayNode a = o.putArray("layers_to_transform");
            layersToTransform.forEach(a::add);
        }
        o.put("lora_alpha", loraAlpha);
        o.put("lora_dropout", loraDropout);
        if (modulesToSave.isEmpty()) {
            o.putNull("modules_to_save");
        } else {
            ArrayNode a = o.putArray("modules_to_save");
            modulesToSave.forEach(a::add);
        }
        o.put("peft_type", "LORA");
        o.put("r", r);
        o.putObject("rank_pattern");
        o.putNull("revision");
        if (targetRegex != null) {
            o.put("target_modules", targetRegex);
        } else {
            ArrayNode a = o.putArray("target_modules");
            targetModules.forEach(a::add);
        }
        o.put("task_type", "CAUSAL_LM");
        o.put("use_dora", false);
        o.put("use_rslora", useRslora);
        return o;
    }

    /** Reads adapter_config.json, refusing what quant4j cannot apply (DoRA, biases, rank/alpha patterns, other PEFT types). */
    public static PeftConfig read(Path file) {
        JsonNode o = Json.readObjectFile(file, 1 << 20);
        String type = o.path("peft_type").asText("");
        if (!type.equals("LORA")) {
            throw new ModelFormatException(file, "peft_type is '" + type + "'; quant4j applies LORA adapters");
        }
        if (o.path("use_dora").asBoolean(false)) {
            throw new ModelFormatException(file, "DoRA adapters (use_dora) are not supported");
        }
        String bias = o.path("bias").asText("none");
        if (!bias.equals("none")) {
            throw new ModelFormatException(file, "bias '" + bias + "' is not supported (Llama has no biases)");
        }
        if (o.path("fan_in_fan_out").asBoolean(false)) {
            throw new ModelFormatException(file, "fan_in_fan_out adapters are not supported");
        }
        for (String pattern : new String[] {"rank_pattern", "alpha_pattern"}) {
            if (o.has(pattern) && o.get(pattern).isObject() && !o.get(pattern).isEmpty()) {
                throw new ModelFormatException(file, pattern + " (per-module ranks) is not supported");
            }
        }
        int r = o.path("r").asInt(8);
        if (r < 1) {
            throw new ModelFormatException(file, "r must be at least 1, got " + r);
        }
        List<String> targets = new ArrayList<>();
        String regex = null;
        JsonNode t = o.get("target_modules");
        if (t != null && t.isArray()) {
            t.forEach(n -> targets.add(n.asText()));
        } else if (t != null && t.isTextual()) {
            if (t.asText().equals("all-linear")) {
                for (Projection p : Projection.values()) {
                    targets.add(p.shortName);
                }
            } else {
                regex = t.asText();
            }
        }
        List<Integer> layers = null;
        JsonNode l = o.get("layers_to_transform");
        if (l != null && l.isInt()) {
            layers = List.of(l.asInt());
        } else if (l != null && l.isArray()) {
            layers = new ArrayList<>();
            for (JsonNode n : l) {
                layers.add(n.asInt());
            }
        }
        List<String> save = new ArrayList<>();
        JsonNode m = o.get("modules_to_save");
        if (m != null && m.isArray()) {
            m.forEach(n -> save.add(n.asText()));
        }
        return new PeftConfig(r, o.path("lora_alpha").asDouble(8), o.path("lora_dropout").asDouble(0), targets, regex, layers, save,
                o.path("base_model_name_or_path").asText(""), o.path("use_rslora").asBoolean(false));
    }
}
