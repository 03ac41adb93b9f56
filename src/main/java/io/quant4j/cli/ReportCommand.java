package io.quant4j.cli;

import io.quant4j.eval.report.QuantizationMethod;
import io.quant4j.eval.report.QuantizationMethods;
import io.quant4j.eval.report.QuantizationReport;
import io.quant4j.eval.report.ReportFiles;
import io.quant4j.eval.report.ReportRow;
import io.quant4j.eval.report.ReportRunner;
import io.quant4j.eval.report.ReportSettings;
import io.quant4j.runtime.LoadedModel;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;

/**
 * {@code quant4j report}: quantizes a model to each listed type and measures size, bits per weight, perplexity,
 * KL-divergence against the base model, peak RAM, quantization time and decode speed; writes report.md/.csv/.json/.svg.
 */
@Command(name = "report", mixinStandardHelpOptions = true,
        description = "Quantize a model to several types and compare them (size, bpw, PPL, KLD, RAM, speed); writes report.md, .csv, .json, .svg.")
public final class ReportCommand implements Callable<Integer> {
    static final String DEFAULT_TYPES = "Q8_0,Q6_K,Q5_K_M,Q4_K_M,Q4_0,Q3_K_M,Q2_K";

    @Option(names = {"-m", "--model"}, paramLabel = "MODEL", description = "the unquantized model (GGUF F32/F16/BF16, Hugging Face folder, llama2.c .bin)")
    Path model;

    @Option(names = "--types", paramLabel = "LIST", description = "comma-separated methods (default " + DEFAULT_TYPES + ")")
    String types = DEFAULT_TYPES;

    @Option(names = {"-f", "--file"}, paramLabel = "FILE", required = true, description = "text for perplexity and KL-divergence (llama.cpp protocol)")
    Path file;

    @Option(names = {"-c", "--ctx-size"}, paramLabel = "N", description = "tokens per perplexity chunk (default 512, at most the model's context)")
    Integer ctx;

    @Option(names = "--chunks", paramLabel = "N", description = "at most N chunks (default: all)")
    int chunks = -1;

    @Option(names = {"-o", "--output"}, paramLabel = "DIR", description = "where report.* go (default report-MODELNAME)")
    Path outDir;

    @Option(names = "--decode-tokens", paramLabel = "N", description = "greedy tokens generated to time decoding (default 128; 0 skips)")
    int decodeTokens = 128;

    @Option(names = {"-t", "--threads"}, paramLabel = "N", description = "threads (default: all cores)")
    Integer threads;

    @Option(names = "--keep-models", description = "keep the quantized models in DIR/models (default: a temporary directory, deleted)")
    boolean keepModels;

    @Option(names = "--list-types", description = "print the known methods and exit")
    boolean listTypes;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        QuantizationMethods registry = QuantizationMethods.defaults();
        if (listTypes) {
            for (String name : registry.names()) {
                out.printf("%-8s %s%n", name, registry.get(name).description());
            }
            return 0;
        }
        List<QuantizationMethod> methods = registry.parseList(types);
        if (threads != null && threads < 1) {
            throw new UserException("--threads must be at least 1, got " + threads);
        }
        Path m = model != null ? model : ModelOptions.defaultModel();
        if (!Files.exists(m)) {
            throw new UserException(m + ": no such file or directory");
        }
        int n = ctx != null ? ctx : defaultCtx(m);
        Path dir = outDir != null ? outDir : Path.of("report-" + stem(m));
        ReportSettings settings = new ReportSettings(m, file, n, chunks, decodeTokens, threads, dir, keepModels);
        QuantizationReport report = new ReportRunner(settings, methods, err).run(commandLine());
        List<Path> written = ReportFiles.write(report, dir);
        for (ReportRow r : report.rows()) {
            if (r.ok()) {
                out.printf("%-10s %-8s PPL %.4f%s%n", r.type(), r.base() ? "(base)" : "", r.measurement().ppl(),
                        r.measurement().kld() == null ? "" : String.format("  KLD %.5f", r.measurement().kld().kld().value()));
            } else {
                out.printf("%-10s %s%n", r.type(), r.statusText());
            }
        }
        out.println("wrote " + String.join(", ", written.stream().map(Path::toString).toList()));
        return 0;
    }

    /** llama-perplexity's 512, or the model's context when that is shorter. */
    private static int defaultCtx(Path m) {
        try (LoadedModel loaded = LoadedModel.load(m, null)) {
            return Math.min(512, loaded.weights().config().contextLength());
        }
    }

    private String commandLine() {
        // the parse result's arguments are the whole command line, subcommand name included
        return "quant4j " + String.join(" ", spec.commandLine().getParseResult().originalArgs());
    }

    private static String stem(Path p) {
        String name = p.toAbsolutePath().normalize().getFileName().toString();
        int dot = name.lastIndexOf('.');
        return dot > 0 ? name.substring(0, dot) : name;
    }
}
