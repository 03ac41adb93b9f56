package io.quant4j.cli;

import io.quant4j.convert.GptqToGguf;
import io.quant4j.quantize.FileType;
import io.quant4j.runtime.LoadedModel;
import io.quant4j.tensor.Parallel;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;

/** {@code quant4j convert IN OUT.gguf [--type T]}: a GPTQ (or any Hugging Face / llama2.c) checkpoint to GGUF. */
@Command(name = "convert", mixinStandardHelpOptions = true,
        description = "Convert a GPTQ checkpoint (or any model quant4j loads) to GGUF; GPTQ blocks that are Q4_0/Q8_0 blocks are copied exactly.")
public final class ConvertCommand implements Callable<Integer> {
    @Parameters(index = "0", paramLabel = "IN", description = "GPTQ checkpoint folder (or any model)")
    Path in;

    @Parameters(index = "1", paramLabel = "OUT.gguf", description = "GGUF file to write")
    Path out;

    @Option(names = "--type", paramLabel = "T", description = "llama.cpp file type: F32, F16, Q8_0, Q4_0, Q4_K_M, ... (default F16)")
    String type = "F16";

    @Option(names = "--pure", description = "every 2-D weight in the base type (no llama.cpp mix rules)")
    boolean pure;

    @Option(names = "--tokenizer", paramLabel = "FILE", description = "tokenizer, when the checkpoint has none")
    Path tokenizer;

    @Option(names = {"-t", "--threads"}, paramLabel = "N", description = "threads (default: all cores)")
    Integer threads;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws IOException {
        PrintWriter err = spec.commandLine().getErr();
        FileType t = FileType.parse(type);
        if (threads != null) {
            if (threads < 1) {
                throw new UserException("--threads must be at least 1, got " + threads);
            }
            Parallel.setThreads(threads);
        }
        Path dir = out.toAbsolutePath().getParent();
        if (dir == null || !Files.isDirectory(dir) || Files.isDirectory(out)) {
            throw new UserException(out + ": cannot write a file here");
        }
        long start = System.nanoTime();
        try (LoadedModel model = LoadedModel.load(in, tokenizer)) {
            err.printf("convert: %s (%s) -> %s as %s%n", in, model.weights().format(), out, t);
            GptqToGguf.Result r = GptqToGguf.convert(model, out, t, pure);
            boolean floats = t == FileType.F32 || t == FileType.F16 || t == FileType.BF16;
            if (floats && r.exactTensors() + r.requantizedTensors() > 0) {
                err.printf("GPTQ projections: %d written dequantized as %s%n", r.exactTensors() + r.requantizedTensors(), t);
            } else if (r.exactTensors() + r.requantizedTensors() > 0) {
                err.printf("GPTQ projections: %d copied exactly (scales and codes as ggml blocks), %d requantized from their dequantized weights%n",
                        r.exactTensors(), r.requantizedTensors());
            }
            err.printf("wrote %s: %.2f MiB in %.2f s%n", out, r.bytes() / 1048576.0, (System.nanoTime() - start) / 1e9);
        }
        return 0;
    }
}
