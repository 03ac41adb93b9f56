package io.quant4j.eval.report;

import io.quant4j.eval.KlDivergence;
import io.quant4j.eval.KldBaseReader;
import io.quant4j.eval.KldBaseWriter;
import io.quant4j.eval.KldSummary;
import io.quant4j.eval.LlamaCppPerplexity;
import io.quant4j.eval.PerplexityProtocol;
import io.quant4j.eval.PerplexityResult;
import io.quant4j.model.LlamaSession;
import io.quant4j.runtime.LoadedModel;
import io.quant4j.runtime.MemoryUsage;
import io.quant4j.sampling.GenerationResult;
import io.quant4j.sampling.GenerationTimings;
import io.quant4j.sampling.Generator;
import io.quant4j.sampling.Sampler;
import io.quant4j.sampling.SamplerConfig;
import io.quant4j.tensor.Parallel;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;

/**
 * The measurements of one model, run inside the child process {@code quant4j report} starts per model so that
 * the peak resident memory is that model's alone: perplexity (and the base file, or the KL-divergence against
 * it), then decode speed, which thereby runs on warmed-up code as llama-bench's warm-up run would.
 */
public final class ModelEvaluator {
    private ModelEvaluator() {
    }

    public static ModelMeasurement measure(EvalRequest r, PrintWriter log) {
        if (r.threads() != null) {
            Parallel.setThreads(r.threads());
        }
        long start = System.nanoTime();
        try (LoadedModel model = LoadedModel.load(r.model(), null)) {
            ModelFootprint footprint = ModelFootprint.of(r.model(), model.weights());
            int bos = model.tokenizer().bos();
            double ppl = Double.NaN;
            double pplError = Double.NaN;
            long scored = 0;
            int chunks = 0;
            KldSummary kld = null;
            if (r.saveBase() != null) {
                int[] tokens = tokens(r, model);
                chunks = LlamaCppPerplexity.chunkCount(tokens.length, r.ctx(), r.chunks());
                LlamaSession session = model.llama().newSession(r.ctx());
                try (KldBaseWriter base = new KldBaseWriter(r.saveBase(), PerplexityProtocol.LLAMACPP, r.ctx(),
                        model.weights().config().vocabSize(), chunks, tokens)) {
                    PerplexityResult p = LlamaCppPerplexity.evaluate(() -> rewound(session), tokens, r.ctx(), r.chunks(), bos,
                            (c, of, est) -> log.printf("[%d]%.4f,%s", c, est.ppl(), c == of ? "\n" : ""), base);
                    base.commit();
                    ppl = p.ppl();
                    pplError = p.pplError();
                    scored = p.count();
                }
            } else if (r.compareBase() != null) {
                try (KldBaseReader base = KldBaseReader.open(r.compareBase())) {
                    if (base.layout().vocab() != model.weights().config().vocabSize()) {
                        throw new IllegalArgumentException(r.compareBase() + ": made with a vocabulary of " + base.layout().vocab()
                                + " tokens, " + r.model() + " has " + model.weights().config().vocabSize());
                    }
                    LlamaSession session = model.llama().newSession(base.layout().ctx());
                    kld = KlDivergence.evaluate(() -> rewound(session), base, -1, bos,
                            (c, of, s) -> log.printf("[%d]%.4f,%s", c, s.ppl().value(), c == of ? "\n" : ""));
                    ppl = kld.ppl().value();
                    pplError = kld.ppl().uncertainty();
                    scored = kld.count();
                    chunks = base.layout().chunks();
                }
            }
            log.flush();
            DecodeSpeed decode = r.decodeTokens() > 0 ? decodeSpeed(model, r.decodeTokens(), log) : null;
            return new ModelMeasurement(footprint, ppl, pplError, scored, chunks, kld, MemoryUsage.peakResidentBytes(),
                    decode, (System.nanoTime() - start) / 1e9);
        }
    }

    private static int[] tokens(EvalRequest r, LoadedModel model) {
        try {
            String text = Files.readString(r.text(), StandardCharsets.UTF_8);
            return model.tokenizer().encode(text, true, false);
        } catch (IOException e) {
            throw new UncheckedIOException(r.text() + ": cannot read: " + e.getMessage(), e);
        }
    }

    /** Timed runs after the warm-up; a tiny model decodes 128 tokens in milliseconds, so one run alone is mostly noise. */
    private static final int DECODE_RUNS = 5;

    /** One warm-up and {@link #DECODE_RUNS} timed greedy generations of {@code n} tokens, as llama-bench's tg. */
    static DecodeSpeed decodeSpeed(LoadedModel model, int n, PrintWriter log) {
        greedyDecode(model, n);
        double[] rates = new double[DECODE_RUNS];
        int tokens = 0;
        for (int i = 0; i < DECODE_RUNS; i++) {
            GenerationTimings t = greedyDecode(model, n);
            rates[i] = t.tokensPerSecond();
            tokens = t.decodeCalls();
        }
        DecodeSpeed s = DecodeSpeed.of(tokens, rates);
        log.printf("decode: %d tokens, %.1f ± %.1f tokens per second over %d runs%n", tokens, s.tokensPerSecond(), s.stdev(), s.runs());
        return s;
    }

    /** Greedy generation of {@code n} tokens after BOS (fewer if the context is shorter), never stopping early; llama.cpp's "eval" timing. */
    static GenerationTimings greedyDecode(LoadedModel model, int n) {
        int bos = Math.max(0, model.tokenizer().bos());
        LlamaSession session = model.llama().newSession(Math.min(model.weights().config().contextLength(), n + 1));
        GenerationResult g = Generator.generate(session, new int[] {bos}, n, new Sampler(SamplerConfig.greedy()),
                t -> false, t -> true);
        return g.timings();
    }

    private static LlamaSession rewound(LlamaSession s) {
        s.rewind(0);
        return s;
    }
}
