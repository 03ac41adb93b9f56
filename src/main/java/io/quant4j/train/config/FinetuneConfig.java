package io.quant4j.train.config;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import io.quant4j.chat.ChatTemplate;
import io.quant4j.format.ModelFormatException;
import io.quant4j.peft.Projection;
import io.quant4j.quantize.FileType;
import io.quant4j.quantize.LayerSelection;
import io.quant4j.quantize.bnb.BnbOptions;
import io.quant4j.train.AdamW;
import io.quant4j.train.LrSchedule;
import io.quant4j.train.TrainingOptions;
import io.quant4j.train.data.DatasetFormat;
import io.quant4j.train.data.JsonlDataset;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/**
 * A fine-tuning run described with Axolotl's YAML keys (where they apply to quant4j) plus
 * {@code quant4j_quantize}, the partial-quantization recipe. Reading it checks every key: unknown keys and
 * contradictions end with a one-line error naming the key.
 *
 * @param adapter            lora, qlora, or none (train tensors in full: unfrozen_parameters)
 * @param baseQuantization   how the base is quantized before training, or null to train on it as stored
 * @param loraRank           lora_r (LoRA only)
 * @param loraTargets        the projections LoRA adapts (lora_target_modules / lora_target_linear)
 * @param loraLayers         peft_layers_to_transform, or null for all layers
 * @param modulesToSave      lora_modules_to_save: module names trained in full next to LoRA (PEFT suffix matching)
 * @param unfrozenParameters unfrozen_parameters: regular expressions over parameter names (full training), or null = all
 * @param distillTeacher     quant4j_distill: the model whose next-token distributions are the training targets, or null
 * @param notes              one line per accepted-but-ignored key, for the log
 */
public record FinetuneConfig(
        Path file,
        String baseModel,
        Path tokenizer,
        Adapter adapter,
        BaseQuantization baseQuantization,
        int loraRank,
        double loraAlpha,
        double loraDropout,
        Set<Projection> loraTargets,
        List<Integer> loraLayers,
        List<String> modulesToSave,
        List<Pattern> unfrozenParameters,
        List<JsonlDataset.Source> datasets,
        double valSetSize,
        int sequenceLen,
        boolean trainOnInputs,
        TrainingOptions training,
        Path outputDir,
        boolean autoResume,
        Path distillTeacher,
        List<String> notes) {

    public enum Adapter { NONE, LORA, QLORA }

    /**
     * How the base is quantized before training: bitsandbytes' load_in_4bit (NF4/FP4) / load_in_8bit (LLM.int8) at
     * load ({@code bnb}: decoder linear layers only, embeddings and lm_head kept, as bitsandbytes does), or a llama.cpp
     * file type mix over chosen layers ({@code fileType}, {@code layers}: quant4j_quantize).
     */
    public record BaseQuantization(String key, FileType fileType, LayerSelection layers, BnbOptions bnb) {
        public static BaseQuantization bitsandbytes(String key, BnbOptions bnb) {
            return new BaseQuantization(key, null, null, bnb);
        }

        public boolean isBitsandbytes() {
            return bnb != null;
        }

        public String describe() {
            return isBitsandbytes() ? key + " " + bnb.describe() : key + " " + fileType + (layers == null ? "" : " layers " + layers);
        }
    }

    /** Keys Axolotl has that do not change what quant4j computes; they are accepted and reported as ignored. */
    private static final Set<String> IGNORED = Set.of("bf16", "fp16", "tf32", "gradient_checkpointing", "flash_attention",
            "sdp_attention", "xformers_attention", "wandb_project", "wandb_entity", "wandb_watch", "wandb_name", "wandb_run_id",
            "wandb_log_model", "dataset_prepared_path", "pad_to_sequence_len", "group_by_length", "early_stopping_patience",
            "local_rank", "logging_dir", "hub_model_id", "debug", "special_tokens", "torch_compile", "ddp_timeout");

    private static final YAMLMapper YAML = new YAMLMapper();

    public static FinetuneConfig read(Path file) {
        if (!Files.isRegularFile(file)) {
            throw new ModelFormatException(file, "no such config file");
        }
        JsonNode root;
        try {
            root = YAML.readTree(file.toFile());
        } catch (IOException e) {
            throw new ModelFormatException(file, "bad YAML: " + e.getMessage().lines().findFirst().orElse(""));
        }
        if (root == null || !root.isObject()) {
            throw new ModelFormatException(file, "the config must be a YAML mapping of keys");
        }
        return parse(file, root);
    }

    static FinetuneConfig parse(Path file, JsonNode root) {
        ConfigFields f = new ConfigFields(file, root, "");
        List<String> notes = new ArrayList<>();
        for (String key : IGNORED) {
            if (f.has(key)) {
                notes.add("note: ignoring '" + key + "' (no effect in quant4j: training runs in double precision on the CPU)");
            }
        }
        String base = f.string("base_model", null);
        if (base == null) {
            throw f.error("'base_model' is required (a GGUF file, Hugging Face folder or llama2.c checkpoint)");
        }
        String modelType = f.string("model_type", "LlamaForCausalLM");
        if (!Set.of("LlamaForCausalLM", "AutoModelForCausalLM").contains(modelType)) {
            throw f.error("model_type", "is '" + modelType + "'; quant4j trains Llama models (LlamaForCausalLM or AutoModelForCausalLM)");
        }
        String tokenizerType = f.string("tokenizer_type", "AutoTokenizer");
        if (!Set.of("LlamaTokenizer", "LlamaTokenizerFast", "AutoTokenizer", "PreTrainedTokenizerFast").contains(tokenizerType)) {
            throw f.error("tokenizer_type", "is '" + tokenizerType + "'; quant4j reads the tokenizer the model carries "
                    + "(LlamaTokenizer, LlamaTokenizerFast or AutoTokenizer)");
        }
        String tokenizer = f.string("tokenizer_config", null);
        f.bool("strict", false);

        Adapter adapter = switch (f.string("adapter", "").trim().toLowerCase(Locale.ROOT)) {
            case "" -> Adapter.NONE;
            case "lora" -> Adapter.LORA;
            case "qlora" -> Adapter.QLORA;
            default -> throw f.error("adapter", "must be lora, qlora or blank (train tensors in full), got '" + f.string("adapter", "") + "'");
        };
        BaseQuantization quantization = baseQuantization(f, adapter, notes);

        int rank = 0;
        double alpha = 0;
        double dropout = 0;
        Set<Projection> targets = EnumSet.noneOf(Projection.class);
        List<Integer> layers = f.integers("peft_layers_to_transform");
        List<String> modulesToSave = f.strings("lora_modules_to_save");
        List<Pattern> unfrozen = null;
        if (adapter == Adapter.NONE) {
            for (String key : List.of("lora_r", "lora_alpha", "lora_dropout", "lora_target_modules", "lora_target_linear",
                    "peft_layers_to_transform", "lora_modules_to_save")) {
                if (f.has(key)) {
                    throw f.error(key, "is a LoRA setting but adapter is blank (full training); set adapter: lora or remove it");
                }
            }
            List<String> patterns = f.strings("unfrozen_parameters");
            if (patterns != null) {
                unfrozen = new ArrayList<>();
                for (String p : patterns) {
                    if (p.matches(".*\\$?\\[\\d*:\\d*\\]$")) {
                        throw f.error("unfrozen_parameters", "'" + p + "': row ranges ([:N]) are not supported; quant4j trains whole tensors");
                    }
                    try {
                        // as Axolotl: dots are literal (they separate module names) and a pattern may match any part of a name
                        unfrozen.add(Pattern.compile(p.replaceAll("(?<!\\\\)\\.", "\\\\.")));
                    } catch (PatternSyntaxException e) {
                        throw f.error("unfrozen_parameters", "has a bad regular expression '" + p + "'");
                    }
                }
            }
        } else {
            if (f.has("unfrozen_parameters")) {
                throw f.error("unfrozen_parameters", "is for full training (blank adapter); with LoRA list full copies in lora_modules_to_save");
            }
            rank = (int) f.integer("lora_r", 8);
            alpha = f.number("lora_alpha", 16);
            dropout = f.number("lora_dropout", 0);
            if (f.bool("lora_fan_in_fan_out", false)) {
                throw f.error("lora_fan_in_fan_out", "is not supported (Llama weights are not stored transposed)");
            }
            if (f.bool("lora_target_linear", false)) {
                targets.addAll(EnumSet.allOf(Projection.class));
            }
            List<String> named = f.strings("lora_target_modules");
            if (named != null) {
                for (String n : named) {
                    Projection p = Projection.byShortName(n.trim());
                    if (p == null) {
                        throw f.error("lora_target_modules", "names '" + n + "'; quant4j adapts q_proj, k_proj, v_proj, o_proj, "
                                + "gate_proj, up_proj, down_proj" + (n.contains("lm_head") || n.contains("embed")
                                ? " (train " + n + " in full with lora_modules_to_save)" : ""));
                    }
                    targets.add(p);
                }
            }
            if (targets.isEmpty()) {
                throw f.error("'lora_target_modules' or 'lora_target_linear: true' is required with adapter " + adapter.name().toLowerCase(Locale.ROOT));
            }
            if (rank < 1) {
                throw f.error("lora_r", "must be at least 1");
            }
            if (!(alpha > 0)) {
                throw f.error("lora_alpha", "must be positive");
            }
            if (!(dropout >= 0 && dropout < 1)) {
                throw f.error("lora_dropout", "must be in [0, 1)");
            }
        }

        List<JsonlDataset.Source> datasets = datasets(f, file);
        double valSetSize = f.number("val_set_size", 0);
        if (valSetSize < 0) {
            throw f.error("val_set_size", "must not be negative");
        }
        int sequenceLen = (int) f.integer("sequence_len", 512);
        if (sequenceLen < 2) {
            throw f.error("sequence_len", "must be at least 2");
        }
        if (f.bool("sample_packing", false)) {
            throw f.error("sample_packing", "is not supported: quant4j trains one sequence at a time without padding");
        }
        boolean trainOnInputs = f.bool("train_on_inputs", false);
        TrainingOptions training = training(f);
        Path outputDir = Path.of(f.string("output_dir", "./model-out"));
        boolean autoResume = f.bool("auto_resume_from_checkpoints", false);
        if (f.has("resume_from_checkpoint")) {
            throw f.error("resume_from_checkpoint", "is not supported; run finetune with --resume (or auto_resume_from_checkpoints: true) "
                    + "to continue from the latest checkpoint in output_dir");
        }
        Path teacher = distillTeacher(f, base);
        f.rejectUnknown();
        return new FinetuneConfig(file, base, tokenizer == null ? null : Path.of(tokenizer), adapter, quantization, rank, alpha, dropout,
                targets, layers, modulesToSave == null ? List.of() : modulesToSave, unfrozen, datasets, valSetSize, sequenceLen,
                trainOnInputs, training, outputDir, autoResume, teacher, notes);
    }

    /** quant4j_distill: true (the teacher is base_model as given, before any quantization) or {teacher: PATH}. */
    private static Path distillTeacher(ConfigFields f, String base) {
        if (!f.has("quant4j_distill")) {
            return null;
        }
        JsonNode d = f.raw("quant4j_distill");
        if (d.isBoolean()) {
            return d.asBoolean() ? Path.of(base) : null;
        }
        if (!d.isObject()) {
            throw f.error("quant4j_distill", "must be true/false or a mapping {teacher: MODEL}");
        }
        ConfigFields df = new ConfigFields(f.file(), d, "quant4j_distill.");
        String teacher = df.string("teacher", base);
        df.rejectUnknown();
        return Path.of(teacher);
    }

    private static BaseQuantization baseQuantization(ConfigFields f, Adapter adapter, List<String> notes) {
        boolean four = f.bool("load_in_4bit", false);
        boolean eight = f.bool("load_in_8bit", false);
        boolean mix = f.has("quant4j_quantize");
        if (four && eight) {
            throw f.error("load_in_8bit", "contradicts load_in_4bit: give one");
        }
        if ((four || eight) && mix) {
            throw f.error("quant4j_quantize", "contradicts " + (four ? "load_in_4bit" : "load_in_8bit") + ": both quantize the base; give one");
        }
        if (adapter == Adapter.QLORA && !four) {
            throw f.error("adapter", "qlora needs load_in_4bit: true (a 4-bit base)");
        }
        if (adapter == Adapter.LORA && four) {
            throw f.error("load_in_4bit", "goes with adapter: qlora, not lora");
        }
        if (adapter == Adapter.NONE && (four || eight)) {
            throw f.error(four ? "load_in_4bit" : "load_in_8bit", "needs an adapter (lora/qlora); to train some layers in full on top of "
                    + "quantized ones use quant4j_quantize");
        }
        BnbOptions bnb = BnbConfigKeys.read(f, four, eight, notes);
        if (bnb != null) {
            return BaseQuantization.bitsandbytes(four ? "load_in_4bit" : "load_in_8bit", bnb);
        }
        if (!mix) {
            return null;
        }
        JsonNode q = f.raw("quant4j_quantize");
        if (q.isTextual()) {
            return new BaseQuantization("quant4j_quantize", fileType(f, q.asText()), null, null);
        }
        if (!q.isObject()) {
            throw f.error("quant4j_quantize", "must be a file type (Q4_K_M) or a mapping {type: Q3_K_S, layers: 0-3}");
        }
        ConfigFields qf = new ConfigFields(f.file(), q, "quant4j_quantize.");
        String type = qf.string("type", null);
        if (type == null) {
            throw qf.error("type", "is required (a llama.cpp file type such as Q4_K_M)");
        }
        LayerSelection layers = null;
        if (qf.has("layers")) {
            try {
                layers = LayerSelection.parse(qf.string("layers", ""));
            } catch (IllegalArgumentException e) {
                throw qf.error("layers", e.getMessage());
            }
        }
        qf.rejectUnknown();
        return new BaseQuantization("quant4j_quantize", fileType(qf, type), layers, null);
    }

    private static FileType fileType(ConfigFields f, String name) {
        if (BnbConfigKeys.isBitsandbytesType(name)) {
            // bitsandbytes quantizes every decoder linear layer as the model loads; there is no per-layer bnb base to save
            throw f.error("type", "is " + name + ", a bitsandbytes type: use " + (name.equalsIgnoreCase("int8") ? "load_in_8bit" : "load_in_4bit")
                    + ": true (every decoder linear layer, with an adapter); quant4j_quantize takes llama.cpp file types (Q4_K_M, Q3_K_S, ...)");
        }
        try {
            FileType t = FileType.parse(name);
            if (!t.baseType.isQuantized()) {
                throw f.error("type", "is " + t + ", not a quantized type");
            }
            return t;
        } catch (IllegalArgumentException e) {
            throw f.error("type", e.getMessage());
        }
    }

    private static List<JsonlDataset.Source> datasets(ConfigFields f, Path file) {
        JsonNode list = f.raw("datasets");
        if (list == null || list.isNull() || (list.isArray() && list.isEmpty())) {
            throw f.error("'datasets' is required: a list of {path, type}");
        }
        if (!list.isArray()) {
            throw f.error("datasets", "must be a list of {path, type}");
        }
        List<JsonlDataset.Source> out = new ArrayList<>();
        int i = 0;
        for (JsonNode d : list) {
            ConfigFields df = new ConfigFields(file, d, "datasets[" + i++ + "].");
            if (!d.isObject()) {
                throw f.error("datasets", "entries must be mappings {path, type}");
            }
            String path = df.string("path", null);
            if (path == null) {
                throw df.error("path", "is required");
            }
            String dsType = df.string("ds_type", "json");
            if (!dsType.equals("json")) {
                throw df.error("ds_type", "is '" + dsType + "'; quant4j reads JSONL files (ds_type: json)");
            }
            DatasetFormat format;
            try {
                format = DatasetFormat.parse(df.string("type", null));
            } catch (IllegalArgumentException e) {
                throw df.error("type", e.getMessage().replace("unknown dataset type ", "is "));
            }
            String field = df.string("field", "text");
            ChatTemplate template = null;
            String conversation = df.string("conversation", format == DatasetFormat.SHAREGPT ? "vicuna" : null);
            if (conversation != null) {
                if (format != DatasetFormat.SHAREGPT) {
                    throw df.error("conversation", "applies to type: sharegpt only");
                }
                try {
                    template = ChatTemplate.byName(conversation.replace("vicuna_v1.1", "vicuna"));
                } catch (IllegalArgumentException e) {
                    throw df.error("conversation", e.getMessage());
                }
            }
            df.rejectUnknown();
            out.add(new JsonlDataset.Source(Path.of(path), format, field, template));
        }
        return out;
    }

    private static TrainingOptions training(ConfigFields f) {
        String optimizer = f.string("optimizer", "adamw_torch");
        if (!Set.of("adamw_torch", "adamw_torch_fused", "adamw_hf", "paged_adamw_32bit").contains(optimizer)) {
            throw f.error("optimizer", "is '" + optimizer + "'; quant4j has AdamW (adamw_torch, adamw_torch_fused, adamw_hf, paged_adamw_32bit)");
        }
        if (!f.has("learning_rate")) {
            throw f.error("'learning_rate' is required");
        }
        double lr = f.number("learning_rate", 0);
        LrSchedule schedule;
        try {
            schedule = LrSchedule.parse(f.string("lr_scheduler", "cosine"));
        } catch (IllegalArgumentException e) {
            throw f.error("lr_scheduler", e.getMessage().replace("unknown lr_scheduler ", "is "));
        }
        if (f.has("warmup_ratio") && f.has("warmup_steps")) {
            throw f.error("warmup_steps", "contradicts warmup_ratio: give one");
        }
        double warmupRatio = f.number("warmup_ratio", 0);
        long warmupSteps = f.integer("warmup_steps", -1);
        AdamW.Settings adam;
        try {
            adam = new AdamW.Settings(f.number("adam_beta1", 0.9), f.number("adam_beta2", 0.999), f.number("adam_epsilon", 1e-8),
                    f.number("weight_decay", 0));
        } catch (IllegalArgumentException e) {
            throw f.error(e.getMessage());
        }
        long micro = f.integer("micro_batch_size", 1);
        long accumulation = f.integer("gradient_accumulation_steps", 1);
        double epochs = f.number("num_epochs", 1);
        long maxSteps = f.integer("max_steps", -1);
        long evalSteps = perEpochOrSteps(f, "eval_steps", "evals_per_epoch");
        long saveSteps = perEpochOrSteps(f, "save_steps", "saves_per_epoch");
        try {
            return new TrainingOptions((int) micro, (int) accumulation, epochs, maxSteps, lr, schedule, warmupRatio, warmupSteps, adam,
                    f.number("max_grad_norm", 1.0), f.integer("seed", 42), evalSteps, saveSteps, (int) f.integer("save_total_limit", 0),
                    f.integer("logging_steps", 10));
        } catch (IllegalArgumentException e) {
            throw f.error(e.getMessage());
        }
    }

    /**
     * eval_steps/save_steps, or evals_per_epoch/saves_per_epoch encoded as a negative count (resolved once the
     * dataset size is known, see {@link #stepsEvery}).
     */
    private static long perEpochOrSteps(ConfigFields f, String stepsKey, String perEpochKey) {
        if (f.has(stepsKey) && f.has(perEpochKey)) {
            throw f.error(perEpochKey, "contradicts " + stepsKey + ": give one");
        }
        if (f.has(perEpochKey)) {
            long n = f.integer(perEpochKey, 0);
            if (n < 1) {
                throw f.error(perEpochKey, "must be at least 1");
            }
            return -n;
        }
        return f.integer(stepsKey, 0);
    }

    /** Steps between evaluations/saves: a per-epoch count (stored negative) becomes steps once the steps per epoch are known. */
    public static long stepsEvery(long configured, double stepsPerEpoch) {
        return configured >= 0 ? configured : Math.max(1, Math.round(stepsPerEpoch / -configured));
    }
}
