package io.quant4j.train.job;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.quant4j.convert.GgufExporter;
import io.quant4j.format.Json;
import io.quant4j.format.ModelFormatException;
import io.quant4j.format.gguf.GgufFile;
import io.quant4j.model.LlamaConfig;
import io.quant4j.quantize.GgufQuantizer;
import io.quant4j.quantize.QuantizeOptions;
import io.quant4j.quantize.bnb.BnbModel;
import io.quant4j.runtime.LoadedModel;
import io.quant4j.train.AdapterExport;
import io.quant4j.train.LoraSettings;
import io.quant4j.train.TrainableLlama;
import io.quant4j.train.Trainer;
import io.quant4j.train.TrainingCheckpoint;
import io.quant4j.train.TrainingExample;
import io.quant4j.train.TrainingOptions;
import io.quant4j.train.TrainingPlan;
import io.quant4j.train.config.FinetuneConfig;
import io.quant4j.train.data.ExampleTokenizer;
import io.quant4j.train.data.JsonlDataset;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.TreeSet;

/**
 * {@code quant4j finetune CONFIG}: quantizes the base as the config asks (quant4j_quantize: written to
 * {@code OUTPUT_DIR/quantized-base.gguf}, the exact weights trained on; load_in_4bit/8bit: bitsandbytes formats
 * in memory, as the model loads), reads the datasets, builds the trainable
 * model, trains, and saves the PEFT adapter to OUTPUT_DIR with a {@code quant4j_training.json} summary.
 */
public final class FinetuneJob {
    public static final String QUANTIZED_BASE = "quantized-base.gguf";
    public static final String SUMMARY = "quant4j_training.json";
    /** Memory for the frozen layers' outputs (beyond it, sequences are recomputed each time). */
    private static final long PREFIX_CACHE_BYTES = 1L << 30;

    private FinetuneJob() {
    }

    public static Trainer.Result run(FinetuneConfig config, boolean resume, PrintWriter out) {
        config.notes().forEach(out::println);
        Path outputDir = config.outputDir();
        try {
            Files.createDirectories(outputDir);
        } catch (IOException e) {
            throw new UncheckedIOException(outputDir + ": cannot create the output directory", e);
        }
        Path base = Path.of(config.baseModel());
        if (!Files.exists(base)) {
            throw new ModelFormatException(config.file(), "base_model " + base + " does not exist (quant4j reads local models only)");
        }
        Path trainingBase = prepareBase(config, base, resume, out);
        try (LoadedModel model = loadBase(config, trainingBase, out)) {
            LlamaConfig c = model.weights().config();
            if (config.sequenceLen() > c.contextLength()) {
                throw new ModelFormatException(config.file(), "'sequence_len' " + config.sequenceLen() + " exceeds the model's context length "
                        + c.contextLength());
            }
            List<TrainingExample> all = readDatasets(config, model, out);
            int nVal = validationCount(config, all.size());
            List<TrainingExample> train = all.subList(0, all.size() - nVal);
            List<TrainingExample> val = all.subList(all.size() - nVal, all.size());
            TrainingPlan plan = plan(config, c);
            TrainableLlama trainable = TrainableLlama.build(c, model.weights().weights(), plan, config.training().seed());
            if (trainable.cacheFrozenPrefix(PREFIX_CACHE_BYTES)) {
                out.printf("layers 0-%d are frozen: their output is computed once per sequence and kept (up to %d MiB)%n",
                        trainable.lowestTrainedLayer() - 1, PREFIX_CACHE_BYTES >> 20);
            }
            TrainingOptions options = resolvePerEpoch(config.training(), train.size());
            boolean resuming = resume || (config.autoResume() && TrainingCheckpoint.latest(outputDir).isPresent());
            String baseName = config.baseModel();
            Trainer trainer = new Trainer(trainable, options, train, val, outputDir,
                    dir -> AdapterExport.of(trainable, plan, baseName).write(dir), out);
            LoadedModel teacher = null;
            if (config.distillTeacher() != null) {
                teacher = LoadedModel.load(config.distillTeacher(), config.tokenizer());
                TrainableLlama frozen = TrainableLlama.frozen(teacher.weights().config(), teacher.weights().weights());
                frozen.cacheFrozenPrefix(PREFIX_CACHE_BYTES); // the teacher's last hidden states: later epochs run only its head
                trainer.distillingFrom(frozen);
                out.printf("quant4j_distill: teacher %s%n", config.distillTeacher());
            }
            Trainer.Result result;
            try {
                result = trainer.run(resuming);
            } finally {
                if (teacher != null) {
                    teacher.close();
                }
            }
            AdapterExport.of(trainable, plan, baseName).write(outputDir);
            writeSummary(config, trainingBase, plan, result, train.size(), val.size());
            out.printf(Locale.ROOT, "saved the adapter to %s (adapter_config.json, adapter_model.safetensors); %.0f training tokens/s%n",
                    outputDir, result.tokensPerSecond());
            boolean atLoad = config.baseQuantization() != null && config.baseQuantization().isBitsandbytes();
            out.printf("evaluate: quant4j perplexity -m %s --lora %s -f FILE   merge: quant4j merge %s %s merged.gguf%s%n",
                    baseArguments(config, trainingBase), outputDir, trainingBase, outputDir,
                    atLoad ? " (into the unquantized base, as QLoRA adapters are usually merged)" : "");
            return result;
        } catch (IllegalArgumentException e) {
            throw new ModelFormatException(config.file(), e.getMessage());
        }
    }

    /**
     * The base file the run trains on: the model itself (also for load_in_4bit/8bit, which quantize it as it loads,
     * see {@link #loadBase}), or its quant4j_quantize copy in the output directory.
     */
    private static Path prepareBase(FinetuneConfig config, Path base, boolean resume, PrintWriter out) {
        FinetuneConfig.BaseQuantization q = config.baseQuantization();
        Path quantized = config.outputDir().resolve(QUANTIZED_BASE);
        if (q == null || q.isBitsandbytes()) {
            removeStaleQuantizedBase(quantized, out);
            return base;
        }
        if (resume && Files.isRegularFile(quantized)) {
            out.printf("resuming: reusing the quantized base %s%n", quantized);
            return quantized;
        }
        long start = System.nanoTime();
        Path gguf = base;
        boolean converted = !isGguf(base);
        if (converted) {
            gguf = config.outputDir().resolve("converted-base.gguf");
            GgufExporter.export(base, config.tokenizer(), gguf);
        }
        QuantizeOptions options = QuantizeOptions.of(q.fileType()).withLayers(q.layers());
        GgufQuantizer.Result r = GgufQuantizer.quantize(gguf, quantized, options, null, null);
        out.printf(Locale.ROOT, "quant4j_quantize: %s%s -> %s (%.3f MiB -> %.3f MiB, %d tensors needed a fallback type)%n",
                q.fileType(), q.layers() == null ? "" : " on layers " + q.layers(), quantized, r.bytesIn() / 1048576.0,
                r.bytesOut() / 1048576.0, r.plan().tensors().stream().filter(t -> t.converts() && t.fallback()).count());
        if (converted) {
            try {
                Files.deleteIfExists(gguf);
            } catch (IOException ignored) {
                // a leftover converted copy is harmless
            }
        }
        out.printf(Locale.ROOT, "quantized base written in %.1f s%n", (System.nanoTime() - start) / 1e9);
        return quantized;
    }

    /** A quantized-base.gguf left by an earlier run with another recipe does not hold what this run trains on. */
    private static void removeStaleQuantizedBase(Path quantized, PrintWriter out) {
        try {
            if (Files.deleteIfExists(quantized)) {
                out.printf("removed %s, left by an earlier run: this config does not train on it%n", quantized);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(quantized + ": cannot remove the stale quantized base", e);
        }
    }

    /**
     * The base as the run trains on it. load_in_4bit / load_in_8bit quantize the decoder's linear layers as the model
     * loads, exactly as {@code --load-in-4bit}/{@code --load-in-8bit} do for the model-running commands (the same
     * deterministic quantizer, so those flags rebuild this base bit for bit): the frozen layers are held as
     * bitsandbytes NF4/FP4/int8 matrices and dequantized a row at a time by the training engine.
     */
    static LoadedModel loadBase(FinetuneConfig config, Path trainingBase, PrintWriter out) {
        FinetuneConfig.BaseQuantization q = config.baseQuantization();
        LoadedModel loaded = LoadedModel.load(trainingBase, config.tokenizer());
        if (q == null || !q.isBitsandbytes()) {
            return loaded;
        }
        long start = System.nanoTime();
        try {
            LoadedModel quantized = loaded.withWeights(BnbModel.quantize(loaded.weights(), q.bnb()));
            out.printf(Locale.ROOT, "%s: bitsandbytes %s on every decoder linear layer, quantized as the model loads "
                    + "(embedding and lm_head kept, as bitsandbytes does), %.1f s%n", q.key(), q.bnb().describe(), (System.nanoTime() - start) / 1e9);
            return quantized;
        } catch (IllegalArgumentException e) {
            loaded.close();
            throw new ModelFormatException(config.file(), "'" + q.key() + "' on base_model " + trainingBase + ": " + e.getMessage());
        } catch (RuntimeException e) {
            loaded.close();
            throw e;
        }
    }

    /** How to load the trained-on base for evaluation: the base file, plus the bitsandbytes flags when it was quantized at load. */
    private static String baseArguments(FinetuneConfig config, Path trainingBase) {
        FinetuneConfig.BaseQuantization q = config.baseQuantization();
        return trainingBase + (q != null && q.isBitsandbytes() ? " " + q.bnb().cliFlags() : "");
    }

    private static boolean isGguf(Path p) {
        if (!Files.isRegularFile(p)) {
            return false;
        }
        try (var in = Files.newInputStream(p)) {
            byte[] b = in.readNBytes(4);
            return b.length == 4 && java.nio.ByteBuffer.wrap(b).order(java.nio.ByteOrder.LITTLE_ENDIAN).getInt() == GgufFile.MAGIC;
        } catch (IOException e) {
            return false;
        }
    }

    private static List<TrainingExample> readDatasets(FinetuneConfig config, LoadedModel model, PrintWriter out) {
        ExampleTokenizer tokenizer = new ExampleTokenizer(model.tokenizer(), config.trainOnInputs());
        List<TrainingExample> all = new ArrayList<>();
        for (JsonlDataset.Source s : config.datasets()) {
            JsonlDataset.Loaded loaded = JsonlDataset.read(s, tokenizer, config.sequenceLen());
            long tokens = loaded.examples().stream().mapToLong(e -> e.tokens().length).sum();
            out.printf("dataset %s (%s): %d records -> %d sequences, %,d tokens%s%s%n", s.path(), s.format().name().toLowerCase(Locale.ROOT),
                    loaded.records(), loaded.examples().size(), tokens,
                    loaded.droppedTooLong() > 0 ? "; dropped " + loaded.droppedTooLong() + " longer than sequence_len" : "",
                    loaded.droppedNoTargets() > 0 ? "; skipped " + loaded.droppedNoTargets() + " window(s) with nothing to predict" : "");
            all.addAll(loaded.examples());
        }
        if (all.isEmpty()) {
            throw new ModelFormatException(config.file(), "the datasets hold no usable sequence");
        }
        return all;
    }

    /** val_set_size: a fraction of the sequences (rounded up) or a count; the last ones are held out, as Axolotl's unshuffled split. */
    static int validationCount(FinetuneConfig config, int n) {
        double v = config.valSetSize();
        int count = v <= 0 ? 0 : v < 1 ? (int) Math.ceil(v * n) : (int) v;
        if (count >= n) {
            throw new ModelFormatException(config.file(), "'val_set_size' " + v + " leaves no training sequence (" + n + " in all)");
        }
        return count;
    }

    static TrainingPlan plan(FinetuneConfig config, LlamaConfig c) {
        if (config.loraLayers() != null) {
            for (int l : config.loraLayers()) {
                if (l < 0 || l >= c.nLayers()) {
                    throw new ModelFormatException(config.file(), "'peft_layers_to_transform' names layer " + l
                            + " but the model has layers 0-" + (c.nLayers() - 1));
                }
            }
        }
        if (config.adapter() == FinetuneConfig.Adapter.NONE) {
            return TrainingPlan.full(ParameterSelection.unfrozen(c, config.unfrozenParameters()));
        }
        LoraSettings lora = new LoraSettings(config.loraRank(), config.loraAlpha(), config.loraDropout(), config.loraTargets(),
                config.loraLayers() == null ? null : new TreeSet<>(config.loraLayers()));
        Set<String> saved = ParameterSelection.modulesToSave(c, config.modulesToSave());
        return TrainingPlan.lora(lora, saved);
    }

    private static TrainingOptions resolvePerEpoch(TrainingOptions o, int trainSize) {
        double stepsPerEpoch = (double) trainSize / o.sequencesPerStep();
        return new TrainingOptions(o.microBatchSize(), o.gradientAccumulationSteps(), o.epochs(), o.maxSteps(), o.learningRate(),
                o.schedule(), o.warmupRatio(), o.warmupSteps(), o.adam(), o.maxGradNorm(), o.seed(),
                FinetuneConfig.stepsEvery(o.evalSteps(), stepsPerEpoch), FinetuneConfig.stepsEvery(o.saveSteps(), stepsPerEpoch),
                o.saveTotalLimit(), o.loggingSteps());
    }

    private static void writeSummary(FinetuneConfig config, Path trainingBase, TrainingPlan plan, Trainer.Result r, int nTrain, int nVal) {
        ObjectNode o = Json.mapper().createObjectNode();
        o.put("config", config.file().toString());
        o.put("base_model", config.baseModel());
        o.put("trained_on", baseArguments(config, trainingBase));
        if (config.baseQuantization() != null) {
            o.put("base_quantization", config.baseQuantization().describe());
        }
        o.put("adapter", config.adapter().name().toLowerCase(Locale.ROOT));
        o.put("fully_trained_tensors", plan.fullyTrained().size());
        o.put("training_sequences", nTrain);
        o.put("validation_sequences", nVal);
        o.put("steps", r.steps());
        o.put("final_train_loss", r.lastTrainLoss());
        o.put("final_val_loss", r.lastValLoss());
        o.put("tokens_per_second", Math.round(r.tokensPerSecond()));
        try {
            Files.writeString(config.outputDir().resolve(SUMMARY), Json.mapper().writerWithDefaultPrettyPrinter().writeValueAsString(o) + "\n");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
