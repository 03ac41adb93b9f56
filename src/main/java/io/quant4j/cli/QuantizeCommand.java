package io.quant4j.cli;

import io.quant4j.format.ModelFormatException;
import io.quant4j.quantize.FileType;
import io.quant4j.quantize.GgufQuantizer;
import io.quant4j.quantize.ImportanceMatrix;
import io.quant4j.quantize.LayerSelection;
import io.quant4j.quantize.PlannedTensor;
import io.quant4j.quantize.QuantizeOptions;
import io.quant4j.tensor.GgmlType;
import io.quant4j.tensor.Parallel;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Locale;
import java.util.concurrent.Callable;

/** {@code quant4j quantize IN OUT FTYPE [nthreads]}: llama-quantize, with partial quantization. */
@Command(name = "quantize", mixinStandardHelpOptions = true,
        description = "Quantize a model to a llama.cpp file type (Q4_0 ... Q6_K, the K mixes, F16, BF16, F32); writes GGUF v3.")
public final class QuantizeCommand implements Callable<Integer> {
    @Parameters(index = "0", paramLabel = "IN", description = "GGUF (F32/F16/BF16), Hugging Face folder or llama2.c .bin")
    Path in;

    @Parameters(index = "1", paramLabel = "OUT", description = "output GGUF file")
    Path out;

    @Parameters(index = "2", paramLabel = "FTYPE", description = "Q4_0 Q4_1 Q5_0 Q5_1 Q8_0 Q2_K Q3_K_S Q3_K_M Q3_K_L Q4_K_S Q4_K_M Q5_K_S Q5_K_M Q6_K IQ4_NL F16 BF16 F32")
    String ftype;

    @Parameters(index = "3", arity = "0..1", paramLabel = "NTHREADS", description = "threads (as llama-quantize's last argument)")
    Integer positionalThreads;

    @Option(names = {"-t", "--threads"}, paramLabel = "N", description = "threads (default: all cores)")
    Integer threads;

    @Option(names = "--pure", description = "every 2-D weight in the base type: no mix rules")
    boolean pure;

    @Option(names = "--output-tensor-type", paramLabel = "TYPE", description = "type of output.weight")
    String outputTensorType;

    @Option(names = "--token-embedding-type", paramLabel = "TYPE", description = "type of token_embd.weight")
    String tokenEmbeddingType;

    @Option(names = "--leave-output-tensor", description = "do not quantize output.weight")
    boolean leaveOutputTensor;

    @Option(names = "--allow-requantize", description = "allow requantizing tensors that are already quantized")
    boolean allowRequantize;

    @Option(names = "--imatrix", paramLabel = "FILE", description = "importance matrix from `quant4j imatrix` or llama-imatrix (.dat)")
    Path imatrixFile;

    @Option(names = "--layers", paramLabel = "LIST", description = "quantize only these decoder layers (e.g. 0-27); the others and output.weight keep their type")
    String layers;

    @Option(names = "--quantize-first", paramLabel = "K", description = "quantize only the first K decoder layers (same as --layers 0-(K-1))")
    Integer quantizeFirst;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        PrintWriter err = spec.commandLine().getErr();
        FileType type = FileType.parse(ftype);
        Integer t = threads != null ? threads : positionalThreads;
        if (t != null) {
            if (t < 1) {
                throw new UserException("threads must be at least 1, got " + t);
            }
            Parallel.setThreads(t);
        }
        if (layers != null && quantizeFirst != null) {
            throw new UserException("give either --layers or --quantize-first, not both");
        }
        LayerSelection selection = layers != null ? LayerSelection.parse(layers)
                : quantizeFirst != null ? LayerSelection.first(quantizeFirst) : null;
        if (!Files.exists(in)) {
            throw new ModelFormatException(in, "no such file or directory");
        }
        Path outDir = out.toAbsolutePath().getParent();
        if (outDir == null || !Files.isDirectory(outDir) || !Files.isWritable(outDir)) {
            throw new UserException(out + ": cannot write here (directory missing or not writable)");
        }
        if (Files.isDirectory(out)) {
            throw new UserException(out + ": is a directory");
        }
        ImportanceMatrix imatrix = imatrixFile != null ? ImportanceMatrix.load(imatrixFile) : null;
        QuantizeOptions options = new QuantizeOptions(type, pure, parseType(outputTensorType), parseType(tokenEmbeddingType),
                leaveOutputTensor, allowRequantize, imatrix != null, selection);

        Path source = SourceConversion.asGguf(in, err);
        long start = System.nanoTime();
        try {
            err.printf("quantize: %s -> %s as %s, %d threads%s%n", in, out, type, Parallel.threads(),
                    selection != null ? ", layers " + selection : "");
            GgufQuantizer.Result r = GgufQuantizer.quantize(source, out, options, imatrix, (i, n, p, bytesIn, bytesOut) -> {
                err.printf("[%4d/%4d] %36s - %-24s type = %6s, %s size = %8.3f MiB -> %8.3f MiB%n", i, n, p.name(),
                        Arrays.toString(p.shape()), p.sourceType().name().toLowerCase(Locale.ROOT),
                        p.converts() ? "converting to " + p.targetType().name().toLowerCase(Locale.ROOT) + (p.fallback() ? " (fallback)" : "") + " .." : "kept ..",
                        bytesIn / 1048576.0, bytesOut / 1048576.0);
                err.flush();
            });
            double secs = (System.nanoTime() - start) / 1e9;
            err.printf("model size  = %8.2f MiB%n", r.bytesIn() / 1048576.0);
            err.printf("quant size  = %8.2f MiB%n", r.bytesOut() / 1048576.0);
            if (r.plan().fallbacks() > 0) {
                err.printf("WARNING: %d of %d tensor(s) required fallback quantization (rows not divisible by the block size)%n",
                        r.plan().fallbacks(), r.plan().tensors().stream().filter(PlannedTensor::converts).count());
            }
            err.printf("quantize time = %.2f s%n", secs);
        } finally {
            SourceConversion.cleanup(source, in);
        }
        return 0;
    }

    private static GgmlType parseType(String name) {
        if (name == null) {
            return null;
        }
        try {
            return GgmlType.valueOf(name.trim().toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new UserException("unknown tensor type '" + name + "'");
        }
    }
}
