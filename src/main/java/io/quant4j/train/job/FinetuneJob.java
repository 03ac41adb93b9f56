package io.quant4j.train.job;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.quant4j.convert.GgufExporter;
import io.quant4j.format.Json;
import io.quant4j.format.ModelFormatException;
import io.quant4j.format.gguf.GgufFile;
import io.quant4j.model.LlamaConfig;
import io.quant4j.quantize.GgufQuantizer;
import io.quant4j.quantize.QuantizeOptions;
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
import java.lang.foreign.Arena;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.TreeSet;

/**
 * {@code quant4j finetune CONFIG}: quantizes the base as the config asks (written to
 * {@code OUTPUT_DIR/quantized-base.gguf}, the exact weights trained on), reads the datasets, builds the trainable
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
        try (LoadedModel model = LoadedModel.load(trainingBase, config.tokenizer())) {
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
            out.printf("evaluate: quant4j perplexity -m %s --lora %s -f FILE   merge: quant4j merge %s %s merged.gguf%n",
                    trainingBase, outputDir, trainingBase, outputDir);
            return result;
        } catch (IllegalArgumentException e) {
            throw new ModelFormatException(config.file(), e.getMessage());
        }
    }

    /** The base the run trains on: the model itself, or its quantized copy in the output directory. */
    private static Path prepareBase(FinetuneConfig config, Path base, boolean resume, PrintWriter out) {
        FinetuneConfig.BaseQuantization q = config.baseQuantization();
        if (q == null) {
            return base;
        }
        Path quantized = config.outputDir().resolve(QUANTIZED_BASE);
        if (resume && Files.isRegularFile(quantized)) {
            out.printf("resuming: reusing the quantized base %s%n", quantized);
            return quantized;
        }
        long start = System.nanoTime();
        if (q.linearLayersOnly()) {
            out.printf("%s: quantizing every decoder linear layer to %s (embedding and lm_head kept, as bitsandbytes does); "
                    + "GGML %s stands in for bitsandbytes' %s%n", q.key(), q.fileType().baseType, q.fileType().baseType,
                    q.key().equals("load_in_4bit") ? "NF4" : "int8");
            LoadedModel loaded = LoadedModel.load(base, config.tokenizer());
            Arena weights = Arena.ofShared();
            LoadedModel requantized;
            try {
                requantized = loaded.withWeights(LinearLayerQuantizer.quantize(loaded.weights().weights(), q.fileType().baseType, weights), weights);
            } catch (RuntimeException e) {
                weights.close();
                loaded.close();
                throw e;
            }
            try (requantized) {
                GgufExporter.write(requantized, quantized);
            }
        } else {
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
        }
        out.printf(Locale.ROOT, "quantized base written in %.1f s%n", (System.nanoTime() - start) / 1e9);
        return quantized;
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
        o.put("trained_on", trainingBase.toString());
        if (config.baseQuantization() != null) {
            FinetuneConfig.BaseQuantization q = config.baseQuantization();
            o.put("base_quantization", q.key() + " " + q.fileType() + (q.layers() == null ? "" : " layers " + q.layers()));
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
