package io.quant4j.cli;

import io.quant4j.model.ModelWeights;
import io.quant4j.quantize.HuggingFaceConfigWriter;
import io.quant4j.quantize.bnb.BnbCheckpointWriter;
import io.quant4j.quantize.bnb.BnbModel;
import io.quant4j.quantize.bnb.BnbOptions;
import io.quant4j.runtime.LoadedModel;
import io.quant4j.runtime.MemoryUsage;
import io.quant4j.tensor.GgmlType;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;

/** {@code quant4j bnb}: quantize as bitsandbytes does at load and save it in bitsandbytes' safetensors serialization. */
@Command(name = "bnb", mixinStandardHelpOptions = true,
        description = "Quantize with bitsandbytes' LLM.int8 or NF4/FP4 and save as transformers saves such a model.")
public final class BnbCommand implements Callable<Integer> {
    @Mixin
    ModelOptions modelOptions;

    @Option(names = {"-o", "--output"}, required = true, paramLabel = "OUT_DIR", description = "checkpoint folder to write")
    Path outDir;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws IOException {
        PrintWriter err = spec.commandLine().getErr();
        BnbOptions o = modelOptions.bnbOptions();
        if (o == null) {
            throw new UserException("say how to quantize: --load-in-8bit or --load-in-4bit [--bnb-4bit-quant-type nf4|fp4] [--double-quant]");
        }
        if (modelOptions.lora != null) {
            // the checkpoint holds the quantized base only; an adapter is applied when the checkpoint is run
            throw new UserException("bnb does not take --lora: save the base, then run it with --lora DIR (or merge the adapter first)");
        }
        if (Files.exists(outDir) && !Files.isDirectory(outDir)) {
            throw new UserException(outDir + ": exists and is not a folder");
        }
        long start = System.nanoTime();
        try (LoadedModel source = modelOptions.loadUnquantized()) {
            GgmlType t = source.weights().weights().layers().getFirst().attnQ().type();
            String dtype = t == GgmlType.BF16 ? "bfloat16" : t == GgmlType.F16 ? "float16" : "float32";
            ModelWeights q = BnbModel.quantize(source.weights(), o);
            Path folder = Files.isDirectory(source.path()) ? source.path() : null;
            List<Path> files = BnbCheckpointWriter.write(outDir, q, o, dtype, folder,
                    HuggingFaceConfigWriter.llama(q.config(), q.weights(), folder, source.tokenizer()));
            err.printf("wrote %s (%d files): %s; %.2f s, peak memory %s%n", outDir, files.size(), o.describe(),
                    (System.nanoTime() - start) / 1e9, MemoryUsage.format(MemoryUsage.peakResidentBytes()));
            if (folder == null) {
                err.println("note: no tokenizer files written (the source is not a Hugging Face folder); run it with --tokenizer " + source.path());
            }
        }
        return 0;
    }
}
