package io.quant4j.cli;

import io.quant4j.eval.GptqDatasets;
import io.quant4j.eval.GptqPerplexity;
import io.quant4j.eval.LlamaCppPerplexity;
import io.quant4j.eval.PerplexityResult;
import io.quant4j.model.LlamaSession;
import io.quant4j.runtime.LoadedModel;
import io.quant4j.runtime.MemoryUsage;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;

/**
 * {@code quant4j perplexity}: llama-perplexity's protocol (default) or the GPTQ paper's; prints the running estimate
 * per chunk and the final line {@code Final estimate: PPL = X +/- Y}.
 */
@Command(name = "perplexity", mixinStandardHelpOptions = true, description = "Measure perplexity on a text (llama.cpp or GPTQ protocol).")
public final class PerplexityCommand implements Callable<Integer> {
    @Mixin
    ModelOptions modelOptions;

    @Option(names = {"-f", "--file"}, paramLabel = "FILE", description = "text file to score (GPTQ protocol: instead of --dataset)")
    Path file;

    @Option(names = "--protocol", paramLabel = "P", description = "llamacpp (default) or gptq")
    String protocol = "llamacpp";

    @Option(names = "--dataset", paramLabel = "NAME", description = "GPTQ protocol: wikitext2, ptb, ptb-new, c4, c4-new (read from --data-dir)")
    String dataset;

    @Option(names = "--data-dir", paramLabel = "DIR", description = "where the GPTQ datasets live (default ../shared/data)")
    Path dataDir = Path.of("../shared/data");

    @Option(names = {"-c", "--ctx-size"}, paramLabel = "N", description = "tokens per chunk (llamacpp default 512, gptq default 2048)")
    Integer ctx;

    @Option(names = "--chunks", paramLabel = "N", description = "at most N chunks (default: all)")
    int chunks = -1;

    @Option(names = {"-b", "--batch-size"}, paramLabel = "N", description = "accepted for llama.cpp compatibility; must be >= ctx")
    Integer batch;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws IOException {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        boolean gptq = switch (protocol) {
            case "llamacpp" -> false;
            case "gptq" -> true;
            default -> throw new UserException("unknown --protocol '" + protocol + "' (llamacpp or gptq)");
        };
        String text;
        String source;
        if (dataset != null) {
            if (!gptq) {
                throw new UserException("--dataset goes with --protocol gptq; use -f FILE for llamacpp");
            }
            text = GptqDatasets.text(dataset, dataDir);
            source = dataset;
        } else if (file != null) {
            if (!Files.isRegularFile(file)) {
                throw new UserException(file + ": no such file");
            }
            text = Files.readString(file, StandardCharsets.UTF_8);
            source = file.toString();
        } else {
            throw new UserException("give a text with -f FILE" + (gptq ? " or --dataset NAME" : ""));
        }
        if (text.isBlank()) {
            throw new UserException(source + ": the text is empty");
        }
        int n = ctx != null ? ctx : gptq ? 2048 : 512;
        if (batch != null && batch < n) {
            throw new UserException("-b " + batch + " is smaller than -c " + n + "; quant4j scores whole chunks");
        }
        try (LoadedModel model = modelOptions.load()) {
            int modelCtx = model.weights().config().contextLength();
            if (n < 4 || n > modelCtx) {
                throw new UserException("-c " + n + " must be between 4 and the model's context length " + modelCtx);
            }
            int[] tokens = model.tokenizer().encode(text, true, false);
            LlamaSession session = model.llama().newSession(n);
            long start = System.nanoTime();
            int[] total = {0};
            LlamaCppPerplexity.Progress progress = (c, of, est) -> {
                if (c == 1) {
                    total[0] = of;
                    double secs = (System.nanoTime() - start) / 1e9;
                    err.printf("perplexity: %.2f seconds per pass - ETA %.1f minutes%n", secs, secs * (of - 1) / 60);
                }
                out.printf("[%d]%.4f,", c, est.ppl());
                out.flush();
            };
            int needed = gptq ? n : 2 * n;
            if (tokens.length < needed) {
                throw new UserException(source + ": the text has " + tokens.length + " tokens; perplexity with a context of "
                        + n + " needs at least " + needed);
            }
            err.printf("perplexity: tokenized %s: %d tokens; protocol %s, n_ctx=%d%n", source, tokens.length, protocol, n);
            PerplexityResult r;
            if (gptq) {
                int max = chunks > 0 ? chunks : dataset != null ? GptqDatasets.maxWindows(dataset) : -1;
                r = GptqPerplexity.evaluate(() -> rewound(session), tokens, n, max, progress);
            } else {
                r = LlamaCppPerplexity.evaluate(() -> rewound(session), tokens, n, chunks, model.tokenizer().bos(), progress);
            }
            out.println();
            out.printf("Final estimate: PPL = %.4f +/- %.5f%n", r.ppl(), r.pplError());
            err.printf("scored %d tokens in %d chunks, %.1f s, peak memory %s%n", r.count(), total[0],
                    (System.nanoTime() - start) / 1e9, MemoryUsage.format(MemoryUsage.peakResidentBytes()));
        } catch (IllegalArgumentException e) {
            throw new UserException(source + ": " + e.getMessage());
        }
        return 0;
    }

    private static LlamaSession rewound(LlamaSession s) {
        s.rewind(0);
        return s;
    }
}
