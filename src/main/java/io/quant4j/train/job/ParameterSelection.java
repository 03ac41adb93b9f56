package io.quant4j.train.job;

import io.quant4j.model.LlamaConfig;
import io.quant4j.peft.Projection;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * The Hugging Face names of a Llama's modules and tensors, and the two ways a config picks tensors to train in
 * full: PEFT's modules_to_save (a module whose name ends with the given string, with all its tensors) and
 * Axolotl's unfrozen_parameters (regular expressions searched in parameter names).
 */
public final class ParameterSelection {
    private ParameterSelection() {
    }

    public static List<String> tensors(LlamaConfig c) {
        List<String> out = new ArrayList<>();
        out.add("model.embed_tokens.weight");
        for (int l = 0; l < c.nLayers(); l++) {
            String p = "model.layers." + l + ".";
            out.add(p + "input_layernorm.weight");
            for (Projection proj : Projection.values()) {
                out.add(proj.moduleName(l) + ".weight");
            }
            out.add(p + "post_attention_layernorm.weight");
        }
        out.add("model.norm.weight");
        out.add("lm_head.weight");
        return out;
    }

    /** Every module that owns tensors, as torch's named_modules lists them. */
    public static List<String> modules(LlamaConfig c) {
        Set<String> out = new LinkedHashSet<>();
        out.add("model");
        out.add("model.layers");
        for (String t : tensors(c)) {
            String[] parts = t.split("\\.");
            StringBuilder m = new StringBuilder(parts[0]);
            for (int i = 1; i < parts.length - 1; i++) {
                m.append('.').append(parts[i]);
                out.add(m.toString());
            }
            if (parts.length == 2) {
                out.add(parts[0]);
            }
        }
        return List.copyOf(out);
    }

    /** Tensors of the modules whose names end with one of {@code targets} (PEFT's modules_to_save matching). */
    public static Set<String> modulesToSave(LlamaConfig c, List<String> targets) {
        Set<String> out = new LinkedHashSet<>();
        for (String target : targets) {
            boolean found = false;
            for (String module : modules(c)) {
                if (module.endsWith(target)) {
                    found = true;
                    for (String t : tensors(c)) {
                        if (t.startsWith(module + ".")) {
                            out.add(t);
                        }
                    }
                }
            }
            if (!found) {
                throw new IllegalArgumentException("lora_modules_to_save names '" + target + "', which matches no module "
                        + "(e.g. lm_head, embed_tokens, model.norm, model.layers.4, model.layers.4.mlp.up_proj)");
            }
        }
        return out;
    }

    /** Tensors in which one of the patterns is found; null patterns mean every tensor (full fine-tuning). */
    public static Set<String> unfrozen(LlamaConfig c, List<Pattern> patterns) {
        Set<String> out = new LinkedHashSet<>();
        for (String t : tensors(c)) {
            if (patterns == null || patterns.stream().anyMatch(p -> p.matcher(t).find())) {
                out.add(t);
            }
        }
        if (out.isEmpty()) {
            throw new IllegalArgumentException("unfrozen_parameters matches no parameter (names look like model.layers.4.mlp.up_proj.weight, lm_head.weight)");
        }
        return out;
    }
}
