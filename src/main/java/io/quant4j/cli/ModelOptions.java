package io.quant4j.cli;

import io.quant4j.quantize.bnb.BnbModel;
import io.quant4j.quantize.bnb.BnbOptions;
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

    @Option(names = "--load-in-8bit", description = "bitsandbytes LLM.int8: int8 weights, outlier inputs in float")
    boolean loadIn8bit;

    @Option(names = "--load-in-4bit", description = "bitsandbytes 4-bit weights (see --bnb-4bit-quant-type)")
    boolean loadIn4bit;

    @Option(names = "--bnb-4bit-quant-type", paramLabel = "T", description = "nf4 or fp4 (default fp4, as transformers)")
    String bnbQuantType = "fp4";

    @Option(names = "--double-quant", description = "4-bit: quantize the block absmax values too (bnb_4bit_use_double_quant)")
    boolean doubleQuant;

    @Option(names = "--blocksize", paramLabel = "B", description = "4-bit block size (default 64)")
    int blocksize = 64;

    @Option(names = "--llm-int8-threshold", paramLabel = "T", description = "8-bit: inputs with |x| >= T go through the float path (default 6.0)")
    float int8Threshold = 6.0f;

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
        BnbOptions bnb = bnbOptions();
        if (bnb == null) {
            return LoadedModel.load(modelPath(), tokenizer, lora);
        }
        LoadedModel loaded = LoadedModel.load(modelPath(), tokenizer);
        try {
            loaded = loaded.withWeights(BnbModel.quantize(loaded.weights(), bnb));
            // as PEFT on a bitsandbytes model: the LoRA pairs wrap the quantized projections
            return lora == null ? loaded : loaded.withAdapter(lora);
        } catch (RuntimeException e) {
            loaded.close();
            throw e;
        }
    }

    /** The model as stored, whatever --load-in-* say. */
    LoadedModel loadUnquantized() {
        if (threads != null) {
            if (threads < 1) {
                throw new UserException("--threads must be at least 1, got " + threads);
            }
            Parallel.setThreads(threads);
        }
        return LoadedModel.load(modelPath(), tokenizer);
    }

    /** The bitsandbytes settings asked for, or null. */
    BnbOptions bnbOptions() {
        if (loadIn8bit && loadIn4bit) {
            throw new UserException("--load-in-8bit and --load-in-4bit exclude each other");
        }
        if (loadIn8bit) {
            return BnbOptions.int8(int8Threshold);
        }
        if (loadIn4bit) {
            return BnbOptions.fourBit(bnbQuantType, doubleQuant, blocksize);
        }
        return null;
    }
}
