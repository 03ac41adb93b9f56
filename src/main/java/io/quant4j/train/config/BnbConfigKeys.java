package io.quant4j.train.config;

import com.fasterxml.jackson.databind.JsonNode;
import io.quant4j.quantize.bnb.BnbOptions;

import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * The bitsandbytes settings of a config: transformers' BitsAndBytesConfig keys, at the top level or in Axolotl's
 * {@code bnb_config_kwargs} mapping (its overrides of the 4-bit config). Defaults are QLoRA's and Axolotl's for
 * {@code adapter: qlora}: NF4 with double quantization, bitsandbytes' block size 64. LLM.int8's outlier threshold
 * (default 6.0) matters only at inference: training reads the int8 weights dequantized.
 */
final class BnbConfigKeys {
    static final String KWARGS = "bnb_config_kwargs";
    private static final String QUANT_TYPE = "bnb_4bit_quant_type";
    private static final String DOUBLE_QUANT = "bnb_4bit_use_double_quant";
    private static final String COMPUTE_DTYPE = "bnb_4bit_compute_dtype";
    private static final String QUANT_STORAGE = "bnb_4bit_quant_storage";
    private static final String THRESHOLD = "llm_int8_threshold";
    private static final String FP16_WEIGHT = "llm_int8_has_fp16_weight";
    private static final List<String> FOUR_BIT_KEYS = List.of(QUANT_TYPE, DOUBLE_QUANT, COMPUTE_DTYPE, QUANT_STORAGE);
    private static final List<String> EIGHT_BIT_KEYS = List.of(THRESHOLD, FP16_WEIGHT);
    private static final Set<String> DTYPES = Set.of("float32", "float16", "bfloat16", "fp32", "fp16", "bf16", "auto",
            "torch.float32", "torch.float16", "torch.bfloat16", "uint8", "torch.uint8");

    private BnbConfigKeys() {
    }

    /** nf4/fp4/int8 name bitsandbytes formats, which quant4j_quantize does not take. */
    static boolean isBitsandbytesType(String name) {
        return Set.of("nf4", "fp4", "int8").contains(name.trim().toLowerCase(Locale.ROOT));
    }

    /** The options for load_in_4bit / load_in_8bit, or null when neither is set (then no bnb key may be given). */
    static BnbOptions read(ConfigFields top, boolean four, boolean eight, List<String> notes) {
        ConfigFields kwargs = kwargs(top);
        for (String key : FOUR_BIT_KEYS) {
            if (!four && given(top, kwargs, key)) {
                throw errorAt(top, kwargs, key, "applies to load_in_4bit: true");
            }
        }
        for (String key : EIGHT_BIT_KEYS) {
            if (!eight && given(top, kwargs, key)) {
                throw errorAt(top, kwargs, key, "applies to load_in_8bit: true");
            }
        }
        BnbOptions options = four ? fourBit(top, kwargs, notes) : eight ? eightBit(top, kwargs) : null;
        if (kwargs != null) {
            kwargs.rejectUnknown();
        }
        return options;
    }

    private static BnbOptions fourBit(ConfigFields top, ConfigFields kwargs, List<String> notes) {
        ConfigFields f = source(top, kwargs, QUANT_TYPE);
        String type = f.string(QUANT_TYPE, "nf4").trim().toLowerCase(Locale.ROOT);
        if (!type.equals("nf4") && !type.equals("fp4")) {
            throw f.error(QUANT_TYPE, "must be nf4 or fp4, got '" + f.string(QUANT_TYPE, "") + "'");
        }
        boolean doubleQuant = source(top, kwargs, DOUBLE_QUANT).bool(DOUBLE_QUANT, true);
        for (String key : List.of(COMPUTE_DTYPE, QUANT_STORAGE)) {
            ConfigFields d = source(top, kwargs, key);
            String dtype = d.string(key, null);
            if (dtype != null) {
                if (!DTYPES.contains(dtype.trim())) {
                    throw d.error(key, "is '" + dtype + "'; expected a torch dtype name (float32, float16, bfloat16)");
                }
                notes.add("note: ignoring '" + key + "' (quant4j dequantizes the 4-bit weights to double for training, float for inference, "
                        + "and stores them packed two per byte)");
            }
        }
        return BnbOptions.fourBit(type, doubleQuant, 64);
    }

    private static BnbOptions eightBit(ConfigFields top, ConfigFields kwargs) {
        ConfigFields f = source(top, kwargs, THRESHOLD);
        double threshold = f.number(THRESHOLD, 6.0);
        if (!(threshold >= 0) || Double.isInfinite(threshold)) {
            throw f.error(THRESHOLD, "must be a non-negative number, got " + threshold);
        }
        ConfigFields h = source(top, kwargs, FP16_WEIGHT);
        if (h.bool(FP16_WEIGHT, false)) {
            throw h.error(FP16_WEIGHT, "is not supported: the frozen base is held as int8 weights (false)");
        }
        return BnbOptions.int8((float) threshold);
    }

    private static ConfigFields kwargs(ConfigFields top) {
        if (!top.has(KWARGS)) {
            return null;
        }
        JsonNode node = top.raw(KWARGS);
        if (!node.isObject()) {
            throw top.error(KWARGS, "must be a mapping of BitsAndBytesConfig keys (bnb_4bit_quant_type: nf4, ...)");
        }
        return new ConfigFields(top.file(), node, KWARGS + ".");
    }

    private static boolean given(ConfigFields top, ConfigFields kwargs, String key) {
        return top.has(key) || (kwargs != null && kwargs.has(key));
    }

    private static RuntimeException errorAt(ConfigFields top, ConfigFields kwargs, String key, String problem) {
        return top.has(key) ? top.error(key, problem) : kwargs.error(key, problem);
    }

    /** Where a key is read: the top level or bnb_config_kwargs, not both (two values for one setting). */
    private static ConfigFields source(ConfigFields top, ConfigFields kwargs, String key) {
        boolean atTop = top.has(key);
        if (kwargs != null && kwargs.has(key)) {
            if (atTop) {
                throw kwargs.error(key, "is also given at the top level: give one");
            }
            return kwargs;
        }
        return top;
    }
}
