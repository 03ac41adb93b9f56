package io.quant4j.cli;

import io.quant4j.convert.GgufExporter;
import io.quant4j.convert.HuggingFaceExporter;
import io.quant4j.runtime.LoadedModel;
import io.quant4j.runtime.MemoryUsage;
import io.quant4j.tensor.GgmlType;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;

/** {@code quant4j merge BASE ADAPTER OUT}: a PEFT adapter merged into its base, written as GGUF or a Hugging Face folder. */
@Command(name = "merge", mixinStandardHelpOptions = true,
        description = "Merge a PEFT LoRA adapter (and its modules_to_save) into a base model; writes GGUF v3 (or, with --hf, a "
                + "Hugging Face folder). In GGUF untouched tensors keep their type (quantized ones byte for byte); merged ones are F32 "
                + "unless --merged-type says otherwise.")
public final class MergeCommand implements Callable<Integer> {
    @Parameters(index = "0", paramLabel = "BASE", description = "base model: GGUF file, Hugging Face folder or llama2.c .bin")
    Path base;

    @Parameters(index = "1", paramLabel = "ADAPTER", description = "PEFT adapter folder (adapter_config.json + adapter_model.safetensors)")
    Path adapter;

    @Parameters(index = "2", paramLabel = "OUT", description = "output GGUF file (a folder with --hf)")
    Path out;

    @Option(names = "--tokenizer", paramLabel = "FILE", description = "tokenizer for a llama2.c base (tok512.bin)")
    Path tokenizer;

    @Option(names = "--hf", description = "write a Hugging Face folder (config.json + model.safetensors, every tensor in --merged-type) instead of GGUF")
    boolean huggingFace;

    @Option(names = "--merged-type", paramLabel = "TYPE", description = "type of the merged matrices: F32 (default), F16 or BF16")
    String mergedType = "F32";

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        Path outDir = out.toAbsolutePath().getParent();
        if (outDir == null || !Files.isDirectory(outDir)) {
            throw new UserException(out + ": cannot write here (directory missing)");
        }
        if (!huggingFace && Files.isDirectory(out)) {
            throw new UserException(out + ": is a directory (give --hf to write a Hugging Face folder)");
        }
        if (huggingFace && Files.isRegularFile(out)) {
            throw new UserException(out + ": is a file; --hf writes a folder");
        }
        GgmlType type = switch (mergedType.trim().toUpperCase(java.util.Locale.ROOT)) {
            case "F32" -> GgmlType.F32;
            case "F16" -> GgmlType.F16;
            case "BF16" -> GgmlType.BF16;
            default -> throw new UserException("--merged-type must be F32, F16 or BF16, got '" + mergedType + "'");
        };
        long start = System.nanoTime();
        try (LoadedModel model = LoadedModel.load(base, tokenizer, adapter)) {
            if (huggingFace) {
                if (!HuggingFaceExporter.write(model, out, type)) {
                    spec.commandLine().getErr().printf("note: %s has no Hugging Face tokenizer files to copy; add the base model's tokenizer to %s%n",
                            base, out);
                }
            } else {
                GgufExporter.write(model, out, type);
            }
        }
        spec.commandLine().getErr().printf("merged %s into %s -> %s in %.2f s, peak memory %s%n", adapter, base, out,
                (System.nanoTime() - start) / 1e9, MemoryUsage.format(MemoryUsage.peakResidentBytes()));
        return 0;
    }
}
