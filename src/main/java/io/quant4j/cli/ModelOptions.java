package io.quant4j.cli;

import io.quant4j.runtime.LoadedModel;
import io.quant4j.tensor.Parallel;
import picocli.CommandLine.Option;

import java.nio.file.Files;
import java.nio.file.Path;

/** Options every model-running command shares. */
public final class ModelOptions {
    @Option(names = {"-m", "--model"}, paramLabel = "MODEL",
            description = "GGUF file, Hugging Face folder, or llama2.c .bin (default: the shipped stories260K)")
    Path model;

    @Option(names = "--tokenizer", paramLabel = "FILE",
            description = "tokenizer for a llama2.c checkpoint (tok512.bin), or another GGUF / tokenizer.json to use")
    Path tokenizer;

    @Option(names = "--lora", paramLabel = "DIR",
            description = "a PEFT adapter folder (adapter_config.json + adapter_model.safetensors) to apply on the model")
    Path lora;

    @Option(names = {"-t", "--threads"}, paramLabel = "N", description = "threads (default: all cores)")
    Integer threads;

    Path modelPath() {
        if (model != null) {
            return model;
        }
        return defaultModel();
    }

    static Path defaultModel() {
        String home = System.getProperty("quant4j.home", ".");
        Path p = Path.of(home, "models", "stories260K", "stories260K.gguf");
        if (!Files.isRegularFile(p)) {
            throw new UserException("no model given (-m) and the default model " + p + " is missing");
        }
        return p;
    }

    LoadedModel load() {
        if (threads != null) {
            if (threads < 1) {
                throw new UserException("--threads must be at least 1, got " + threads);
            }
            Parallel.setThreads(threads);
        }
        return LoadedModel.load(modelPath(), tokenizer, lora);
    }
}
