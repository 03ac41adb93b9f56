package io.quant4j.cli;

import io.quant4j.eval.GptqDatasets;
import io.quant4j.eval.GptqPerplexity;
import io.quant4j.eval.KlDivergence;
import io.quant4j.eval.KldBaseFile;
import io.quant4j.eval.KldBaseReader;
import io.quant4j.eval.KldBaseWriter;
import io.quant4j.eval.KldSummary;
import io.quant4j.eval.KldText;
import io.quant4j.eval.LlamaCppPerplexity;
import io.quant4j.eval.PerplexityProtocol;
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
 * per chunk and the final line {@code Final estimate: PPL = X +/- Y}. KL-divergence as llama-perplexity does it:
 * {@code --kl-divergence-base FILE} alone saves the base model's log-probs of every scored position (and the
 * tokens) to FILE; adding {@code --kl-divergence} compares another model against FILE (no text needed).
 */
@Command(name = "perplexity", mixinStandardHelpOptions = true, description = "Measure perplexity on a text (llama.cpp or GPTQ protocol).")
public final class PerplexityCommand implements Callable<Integer> {
    @Mixin
    ModelOptions modelOptions;

    @Option(names = {"-f", "--file"}, paramLabel = "FILE", description = "text file to score (GPTQ protocol: instead of --dataset)")
    Path file;

    @Option(names = "--protocol", paramLabel = "P", description = "llamacpp (default) or gptq")
    String protocol;

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

    @Option(names = "--kl-divergence-base", paramLabel = "FILE",
            description = "without --kl-divergence: save the log-probs of every scored position to FILE (llama.cpp's format); with it: the file to compare against")
    Path klBase;

    @Option(names = "--kl-divergence", description = "compare this model with the base model's --kl-divergence-base FILE (tokens come from FILE)")
    boolean klDivergence;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws IOException {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        if (protocol != null && !protocol.equals("llamacpp") && !protocol.equals("gptq")) {
            throw new UserException("unknown --protocol '" + protocol + "' (llamacpp or gptq)");
        }
        if (klDivergence) {
            return compareWithBase(out, err);
        }
        boolean gptq = "gptq".equals(protocol);
        if (klBase != null) {
            checkWritable(klBase);
        }
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
            err.printf("perplexity: tokenized %s: %d tokens; protocol %s, n_ctx=%d%n", source, tokens.length, gptq ? "gptq" : "llamacpp", n);
            int max = gptq && chunks <= 0 && dataset != null ? GptqDatasets.maxWindows(dataset) : chunks;
            int evaluated = gptq ? GptqPerplexity.windowCount(tokens.length, n, max) : LlamaCppPerplexity.chunkCount(tokens.length, n, max);
            PerplexityResult r;
            try (KldBaseWriter base = klBase == null ? null : new KldBaseWriter(klBase, gptq ? PerplexityProtocol.GPTQ
                    : PerplexityProtocol.LLAMACPP, n, model.weights().config().vocabSize(), evaluated, tokens)) {
                if (base != null) {
                    err.printf("perplexity: saving the log-probs of %d positions to %s%n",
                            (long) evaluated * base.layout().rowsPerChunk(), klBase);
                }
                if (gptq) {
                    r = GptqPerplexity.evaluate(() -> rewound(session), tokens, n, max, progress, base);
                } else {
                    r = LlamaCppPerplexity.evaluate(() -> rewound(session), tokens, n, max, model.tokenizer().bos(), progress, base);
                }
                if (base != null) {
                    base.commit();
                }
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

    /** The {@code --kl-divergence} run: chunks, tokens and protocol all come from the base file. */
    private int compareWithBase(PrintWriter out, PrintWriter err) {
        if (klBase == null) {
            throw new UserException("--kl-divergence needs --kl-divergence-base FILE, made by a run of the base model without --kl-divergence");
        }
        if (file != null || dataset != null) {
            err.println("perplexity: ignoring the text: with --kl-divergence the tokens come from " + klBase);
        }
        try (KldBaseReader base = KldBaseReader.open(klBase)) {
            KldBaseFile f = base.layout();
            if (protocol != null && !protocol.equals(f.protocol().cliName())) {
                throw new UserException(klBase + ": made with --protocol " + f.protocol().cliName() + ", not " + protocol);
            }
            if (ctx != null && ctx != f.ctx()) {
                throw new UserException(klBase + ": made with -c " + f.ctx() + "; give the same -c or none");
            }
            if (batch != null && batch < f.ctx()) {
                throw new UserException("-b " + batch + " is smaller than the base file's context " + f.ctx() + "; quant4j scores whole chunks");
            }
            try (LoadedModel model = modelOptions.load()) {
                int modelVocab = model.weights().config().vocabSize();
                if (modelVocab != f.vocab()) {
                    throw new UserException(klBase + ": made with a vocabulary of " + f.vocab() + " tokens, this model has " + modelVocab);
                }
                int modelCtx = model.weights().config().contextLength();
                if (f.ctx() > modelCtx) {
                    throw new UserException(klBase + ": made with -c " + f.ctx() + ", more than this model's context length " + modelCtx);
                }
                LlamaSession session = model.llama().newSession(f.ctx());
                int evaluated = chunks > 0 ? Math.min(chunks, f.chunks()) : f.chunks();
                err.printf("kl-divergence: %s: %d chunks of %d tokens, protocol %s, n_vocab=%d; comparing %d chunks%n",
                        klBase, f.chunks(), f.ctx(), f.protocol().cliName(), f.vocab(), evaluated);
                long start = System.nanoTime();
                out.println(KldText.chunkHeader());
                KldSummary s = KlDivergence.evaluate(() -> rewound(session), base, chunks, model.tokenizer().bos(), (c, of, running) -> {
                    if (c == 1) {
                        double secs = (System.nanoTime() - start) / 1e9;
                        err.printf("kl-divergence: %.2f seconds per pass - ETA %.1f minutes%n", secs, secs * (of - 1) / 60);
                    }
                    out.println(KldText.chunkLine(c, running));
                });
                out.println();
                out.print(KldText.statistics(s));
                out.println();
                out.printf("Final estimate: PPL = %.4f +/- %.5f%n", s.ppl().value(), s.ppl().uncertainty());
                err.printf("compared %d positions in %.1f s, peak memory %s%n", s.count(), (System.nanoTime() - start) / 1e9,
                        MemoryUsage.format(MemoryUsage.peakResidentBytes()));
            }
        }
        return 0;
    }

    private static void checkWritable(Path target) {
        Path dir = target.toAbsolutePath().getParent();
        if (dir == null || !Files.isDirectory(dir) || !Files.isWritable(dir)) {
            throw new UserException(target + ": cannot write here (directory missing or not writable)");
        }
        if (Files.isDirectory(target)) {
            throw new UserException(target + ": is a directory");
        }
    }

    private static LlamaSession rewound(LlamaSession s) {
        s.rewind(0);
        return s;
    }
}
