package io.quant4j.runtime;

import io.quant4j.format.ModelFormatException;
import io.quant4j.format.gguf.GgufFile;
import io.quant4j.model.Llama;
import io.quant4j.model.ModelLoader;
import io.quant4j.model.LlamaWeights;
import io.quant4j.model.ModelWeights;
import io.quant4j.peft.AdapterApplier;
import io.quant4j.peft.PeftAdapter;
import io.quant4j.tokenizer.Tokenizer;
import io.quant4j.tokenizer.Tokenizers;

import java.lang.foreign.Arena;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * A runnable model: weights, the forward pass and its tokenizer, from any of the three sources (GGUF file,
 * Hugging Face folder, llama2.c checkpoint). The tokenizer comes from the model itself unless one is given:
 * a llama2.c {@code tok*.bin}, a GGUF file, a {@code tokenizer.json} or a folder holding one.
 */
public final class LoadedModel implements AutoCloseable {
    private final Path path;
    private final ModelWeights weights;
    private final Llama llama;
    private final Tokenizer tokenizer;

    private LoadedModel(Path path, ModelWeights weights, Tokenizer tokenizer) {
        this.path = path;
        this.weights = weights;
        this.llama = new Llama(weights.config(), weights.weights());
        this.tokenizer = tokenizer;
    }

    public static LoadedModel load(Path model, Path tokenizerPath) {
        return load(model, tokenizerPath, null);
    }

    /**
     * Loads the model with a PEFT adapter folder on top (null for none): LoRA pairs wrap the base projections,
     * modules_to_save tensors replace the base's.
     */
    public static LoadedModel load(Path model, Path tokenizerPath, Path loraDir) {
        ModelWeights weights = ModelLoader.loadWeights(model);
        try {
            if (loraDir != null) {
                weights = withAdapter(weights, loraDir);
            }
            Tokenizer tokenizer = tokenizerPath != null
                    ? loadTokenizer(tokenizerPath, weights.config().vocabSize())
                    : tokenizerOf(model, weights);
            if (tokenizer.vocabSize() > weights.config().vocabSize()) {
                throw new ModelFormatException(tokenizerPath != null ? tokenizerPath : model, "tokenizer has "
                        + tokenizer.vocabSize() + " tokens but the model's vocabulary is " + weights.config().vocabSize());
            }
            return new LoadedModel(model, weights, tokenizer);
        } catch (RuntimeException e) {
            closeQuietly(weights);
            throw e;
        }
    }

    /**
     * This model with a PEFT adapter folder on top (e.g. over weights quantized at load). The result takes over this
     * model's resources: close the result, not this one.
     */
    public LoadedModel withAdapter(Path loraDir) {
        return new LoadedModel(path, withAdapter(weights, loraDir), tokenizer);
    }

    private static ModelWeights withAdapter(ModelWeights base, Path loraDir) {
        PeftAdapter adapter = PeftAdapter.read(loraDir);
        Arena arena = Arena.ofShared();
        try {
            LlamaWeights adapted = AdapterApplier.apply(base.config(), base.weights(), adapter, loraDir, arena);
            List<AutoCloseable> resources = new ArrayList<>(base.resources());
            resources.add(arena);
            return new ModelWeights(base.format() + " + LoRA " + loraDir.getFileName(), base.config(), adapted, base.metadata(),
                    base.tensors(), List.copyOf(resources));
        } catch (RuntimeException e) {
            arena.close();
            throw e;
        }
    }

    /**
     * The same model with other weights (e.g. re-quantized ones) and {@code extra} (their memory) added to what
     * it owns. The result takes over this model's resources: close the result, not this one.
     */
    public LoadedModel withWeights(LlamaWeights replaced, AutoCloseable extra) {
        List<AutoCloseable> resources = new ArrayList<>(weights.resources());
        resources.add(extra);
        return new LoadedModel(path, new ModelWeights(weights.format(), weights.config(), replaced, weights.metadata(), weights.tensors(),
                List.copyOf(resources)), tokenizer);
    }

    private static Tokenizer tokenizerOf(Path model, ModelWeights weights) {
        for (AutoCloseable r : weights.resources()) {
            if (r instanceof GgufFile gguf) {
                return Tokenizers.fromGguf(gguf);
            }
        }
        if (Files.isDirectory(model)) {
            return Tokenizers.fromHuggingFace(model);
        }
        for (String name : new String[] {"tokenizer.bin", "tok" + weights.config().vocabSize() + ".bin"}) {
            Path beside = model.toAbsolutePath().resolveSibling(name);
            if (Files.isRegularFile(beside)) {
                return Tokenizers.fromLlama2c(beside, weights.config().vocabSize());
            }
        }
        throw new ModelFormatException(model, "a llama2.c checkpoint carries no tokenizer: pass one with --tokenizer (e.g. tok512.bin)");
    }

    /** A tokenizer given on its own: llama2.c tok file, GGUF, tokenizer.json, or a folder holding tokenizer.json. */
    public static Tokenizer loadTokenizer(Path path, int vocabSize) {
        if (Files.isDirectory(path)) {
            return Tokenizers.fromHuggingFace(path);
        }
        if (!Files.isRegularFile(path)) {
            throw new ModelFormatException(path, "no such file or directory");
        }
        String name = path.getFileName().toString();
        if (name.endsWith(".json")) {
            return Tokenizers.fromHuggingFace(path.toAbsolutePath().getParent());
        }
        if (name.endsWith(".gguf")) {
            try (GgufFile gguf = GgufFile.open(path)) {
                return Tokenizers.fromGguf(gguf);
            }
        }
        return Tokenizers.fromLlama2c(path, vocabSize);
    }

    /** The Jinja chat template the model carries (GGUF tokenizer.chat_template, or tokenizer_config.json's), if any. */
    public java.util.Optional<String> chatTemplate() {
        for (AutoCloseable r : weights.resources()) {
            if (r instanceof GgufFile gguf) {
                return gguf.metadata().findString("tokenizer.chat_template");
            }
        }
        Path config = path.resolve("tokenizer_config.json");
        if (Files.isDirectory(path) && Files.isRegularFile(config)) {
            try {
                var node = new com.fasterxml.jackson.databind.ObjectMapper().readTree(config.toFile()).get("chat_template");
                if (node != null && node.isTextual()) {
                    return java.util.Optional.of(node.asText());
                }
            } catch (java.io.IOException e) {
                throw new ModelFormatException(config, "bad JSON: " + e.getMessage().lines().findFirst().orElse(""));
            }
        }
        return java.util.Optional.empty();
    }

    /**
     * The same model with its weights replaced (e.g. quantized at load); {@code replaced} must own this model's
     * resources, which are closed with it.
     */
    public LoadedModel withWeights(ModelWeights replaced) {
        return new LoadedModel(path, replaced, tokenizer);
    }

    public Path path() {
        return path;
    }

    public ModelWeights weights() {
        return weights;
    }

    public Llama llama() {
        return llama;
    }

    public Tokenizer tokenizer() {
        return tokenizer;
    }

    @Override
    public void close() {
        closeQuietly(weights);
    }

    private static void closeQuietly(ModelWeights weights) {
        for (AutoCloseable r : weights.resources()) {
            try {
                r.close();
            } catch (Exception ignored) {
                // closing a mapping cannot fail in a way the user could act on
            }
        }
    }
}
