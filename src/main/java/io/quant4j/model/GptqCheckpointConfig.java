package io.quant4j.model;

import com.fasterxml.jackson.databind.JsonNode;
import io.quant4j.format.ModelFormatException;
import io.quant4j.tensor.gptq.GptqPacking;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

import static io.quant4j.format.ModelFormatException.quote;

/**
 * The GPTQ settings a loader needs, from config.json's {@code quantization_config} (transformers) and/or
 * {@code quantize_config.json} (AutoGPTQ, GPTQModel): bits, group size, the zero-point convention
 * ({@code checkpoint_format} "gptq" = v1, stored zero = zero − 1; "gptq_v2" = stored zero), and which modules are
 * quantized — GPTQModel's {@code dynamic} ("-:regex" excludes matching modules; other keys override bits or
 * group_size of matching modules) and transformers' {@code modules_in_block_to_quantize}.
 */
record GptqCheckpointConfig(Path file, int bits, int groupSize, int zeroOffset, String format, List<Pattern> excluded,
                            List<Override> overrides, Set<String> modulesInBlock, String fileBaseName) {

    /** Settings for modules whose full name matches {@code pattern} from its start. */
    record Override(Pattern pattern, Integer bits, Integer groupSize) {
    }

    /** Per-module settings after exclusions and overrides; null bits means the module is not quantized. */
    record ModuleSettings(boolean quantized, int bits, int groupSize) {
    }

    /**
     * Reads the settings; {@code main} (config.json's quantization_config, may be null) wins over {@code extra}
     * (quantize_config.json, may be null) but they must agree on bits, group size and format.
     */
    static GptqCheckpointConfig parse(Path mainFile, JsonNode main, Path extraFile, JsonNode extra) {
        Path file = main != null ? mainFile : extraFile;
        JsonNode q = main != null ? main : extra;
        String key = main != null ? "quantization_config." : "";
        int bits = integer(file, q, key, "bits", null);
        if (!GptqPacking.supportedBits(bits)) {
            throw new ModelFormatException(file, quote(key + "bits") + " is " + bits + "; GPTQ checkpoints hold 2, 3, 4 or 8 bits");
        }
        int groupSize = integer(file, q, key, "group_size", 128);
        if (groupSize == 0 || groupSize < -1) {
            throw new ModelFormatException(file, quote(key + "group_size") + " is " + groupSize + "; expected -1 or a positive size");
        }
        String format = q.hasNonNull("checkpoint_format") ? q.get("checkpoint_format").asText() : "gptq";
        int zeroOffset = switch (format) {
            case "gptq" -> 1;
            case "gptq_v2" -> 0;
            default -> throw new ModelFormatException(file, quote(key + "checkpoint_format") + " is " + quote(format)
                    + "; quant4j reads gptq (v1) and gptq_v2");
        };
        if (q.hasNonNull("lm_head") && q.get("lm_head").asBoolean()) {
            throw new ModelFormatException(file, quote(key + "lm_head") + " is true: a quantized lm_head is not supported");
        }
        if (main != null && extra != null) {
            agree(mainFile, extraFile, main, extra, "bits");
            agree(mainFile, extraFile, main, extra, "group_size");
            String other = extra.hasNonNull("checkpoint_format") ? extra.get("checkpoint_format").asText() : format;
            if (!other.equals(format)) {
                throw new ModelFormatException(extraFile, "'checkpoint_format' " + quote(other) + " disagrees with " + mainFile.getFileName()
                        + "'s " + quote(format));
            }
        }
        List<Pattern> excluded = new ArrayList<>();
        List<Override> overrides = new ArrayList<>();
        JsonNode dynamic = q.get("dynamic");
        if (dynamic != null && !dynamic.isNull()) {
            if (!dynamic.isObject()) {
                throw new ModelFormatException(file, quote(key + "dynamic") + " must be an object of regex keys");
            }
            for (Map.Entry<String, JsonNode> e : dynamic.properties()) {
                String k = e.getKey();
                if (k.startsWith("-:")) {
                    excluded.add(regex(file, key, k.substring(2)));
                } else {
                    String re = k.startsWith("+:") ? k.substring(2) : k;
                    JsonNode v = e.getValue();
                    Integer b = v.hasNonNull("bits") ? v.get("bits").asInt() : null;
                    Integer g = v.hasNonNull("group_size") ? v.get("group_size").asInt() : null;
                    if (b != null && !GptqPacking.supportedBits(b)) {
                        throw new ModelFormatException(file, quote(key + "dynamic") + " sets bits " + b + " for " + quote(k) + "; GPTQ holds 2, 3, 4 or 8 bits");
                    }
                    overrides.add(new Override(regex(file, key, re), b, g));
                }
            }
        }
        Set<String> inBlock = null;
        JsonNode mib = q.get("modules_in_block_to_quantize");
        if (mib != null && !mib.isNull()) {
            inBlock = new HashSet<>();
            if (!mib.isArray()) {
                throw new ModelFormatException(file, quote(key + "modules_in_block_to_quantize") + " must be a list of lists of module names");
            }
            for (JsonNode group : mib) {
                if (group.isArray()) {
                    for (JsonNode n : group) {
                        inBlock.add(inBlockName(file, key, n));
                    }
                } else {
                    inBlock.add(inBlockName(file, key, group));
                }
            }
        }
        String base = extra != null && extra.hasNonNull("model_file_base_name") ? extra.get("model_file_base_name").asText() : null;
        return new GptqCheckpointConfig(file, bits, groupSize, zeroOffset, format, excluded, overrides, inBlock, base);
    }

    private static String inBlockName(Path file, String key, JsonNode n) {
        if (!n.isTextual()) {
            throw new ModelFormatException(file, quote(key + "modules_in_block_to_quantize") + " holds " + quote(n.toString()) + ", not a module name");
        }
        return n.textValue();
    }

    private static Pattern regex(Path file, String key, String re) {
        try {
            return Pattern.compile(re);
        } catch (PatternSyntaxException e) {
            throw new ModelFormatException(file, quote(key + "dynamic") + " key " + quote(re) + " is not a valid regex");
        }
    }

    private static void agree(Path mainFile, Path extraFile, JsonNode main, JsonNode extra, String k) {
        if (main.has(k) && extra.has(k) && !main.get(k).equals(extra.get(k))) {
            throw new ModelFormatException(extraFile, quote(k) + " is " + extra.get(k) + " but " + mainFile.getFileName()
                    + " says " + main.get(k));
        }
    }

    private static int integer(Path file, JsonNode q, String prefix, String k, Integer fallback) {
        JsonNode n = q.get(k);
        if (n == null || n.isNull()) {
            if (fallback == null) {
                throw new ModelFormatException(file, "missing key " + quote(prefix + k));
            }
            return fallback;
        }
        if (!n.isIntegralNumber() || !n.canConvertToInt()) {
            throw new ModelFormatException(file, quote(prefix + k) + " must be an integer, got " + quote(n.toString()));
        }
        return n.intValue();
    }

    /** The settings of {@code model.layers.L.<module>}. */
    ModuleSettings module(int layer, String module) {
        String name = "model.layers." + layer + "." + module;
        for (Pattern p : excluded) {
            if (p.matcher(name).lookingAt()) {
                return new ModuleSettings(false, 0, 0);
            }
        }
        if (modulesInBlock != null && !modulesInBlock.contains(module)) {
            return new ModuleSettings(false, 0, 0);
        }
        for (Override o : overrides) {
            if (o.pattern().matcher(name).lookingAt()) {
                return new ModuleSettings(true, o.bits() != null ? o.bits() : bits, o.groupSize() != null ? o.groupSize() : groupSize);
            }
        }
        return new ModuleSettings(true, bits, groupSize);
    }
}
