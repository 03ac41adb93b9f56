package io.quant4j.cli;

import io.quant4j.model.LlamaSession;
import io.quant4j.runtime.LoadedModel;
import io.quant4j.runtime.MemoryUsage;
import io.quant4j.sampling.GenerationResult;
import io.quant4j.sampling.GenerationTimings;
import io.quant4j.sampling.Generator;
import io.quant4j.sampling.Sampler;
import io.quant4j.tokenizer.StreamingDecoder;
import io.quant4j.tokenizer.Tokenizer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

import java.io.PrintWriter;
import java.util.concurrent.Callable;

/**
 * {@code quant4j generate}: prints the prompt and its continuation on stdout as tokens arrive; timings and peak
 * memory on stderr, in llama.cpp's terms.
 */
@Command(name = "generate", mixinStandardHelpOptions = true, description = "Continue a prompt.")
public final class GenerateCommand implements Callable<Integer> {
    @Mixin
    ModelOptions modelOptions;

    @Mixin
    SamplingOptions sampling;

    @Option(names = {"-p", "--prompt"}, required = true, paramLabel = "PROMPT", description = "text to continue")
    String prompt;

    @Option(names = {"-n", "--n-predict"}, paramLabel = "N", description = "tokens to generate (default 256; -1 = until the context is full)")
    int nPredict = 256;

    @Option(names = {"-c", "--ctx-size"}, paramLabel = "N", description = "context size (default: the model's)")
    Integer ctxSize;

    @Option(names = "--beams", paramLabel = "B", description = "beam search with B beams (as transformers' num_beams); sampling options are ignored")
    int beams = 1;

    @Option(names = "--kv-type", paramLabel = "T", description = "KV cache type: f32 (default) or f16 (half the memory)")
    String kvType = "f32";

    @Option(names = "--no-bos", description = "do not add the BOS token")
    boolean noBos;

    @Option(names = "--parse-special", description = "map special-token texts in the prompt to their ids")
    boolean parseSpecial;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        if (beams < 1) {
            throw new UserException("--beams must be at least 1, got " + beams);
        }
        if (nPredict < -1) {
            throw new UserException("-n must be -1 or more, got " + nPredict);
        }
        Sampler sampler = new Sampler(sampling.config());
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        try (LoadedModel model = modelOptions.load()) {
            Tokenizer tok = model.tokenizer();
            int[] promptIds = tok.encode(prompt, !noBos, parseSpecial);
            if (promptIds.length == 0) {
                throw new UserException("the prompt is empty");
            }
            int ctx = ctxSize != null ? ctxSize : model.weights().config().contextLength();
            if (ctx < 1 || ctx > model.weights().config().contextLength()) {
                throw new UserException("-c " + ctx + " must be between 1 and the model's context length " + model.weights().config().contextLength());
            }
            if (promptIds.length >= ctx) {
                throw new UserException("the prompt is " + promptIds.length + " tokens, more than the context of " + ctx);
            }
            int maxNew = nPredict < 0 ? ctx - promptIds.length : nPredict;
            boolean f16Cache = switch (kvType.toLowerCase(java.util.Locale.ROOT)) {
                case "f32" -> false;
                case "f16" -> true;
                default -> throw new UserException("--kv-type must be f32 or f16, got " + kvType);
            };
            LlamaSession session = model.llama().newSession(ctx, f16Cache);

            StreamingDecoder decoder = new StreamingDecoder(tok);
            for (int id : promptIds) {
                decoder.accept(id); // primes the decoder: the continuation keeps its leading spaces
            }
            out.print(prompt);
            out.flush();
            GenerationResult result;
            if (beams > 1) {
                result = Generator.beamSearch(session, promptIds, maxNew, beams, tok::isEndOfGeneration, t -> {
                    out.print(decoder.accept(t));
                    out.flush();
                    return true;
                });
            } else {
                result = Generator.generate(session, promptIds, maxNew, sampler, tok::isEndOfGeneration, t -> {
                    out.print(decoder.accept(t));
                    out.flush();
                    return true;
                });
            }
            out.print(decoder.flush());
            out.println();
            out.flush();
            GenerationTimings t = result.timings();
            err.printf("%nprompt eval: %8.2f ms / %4d tokens (%8.2f ms per token, %9.2f tokens per second)%n",
                    t.promptMs(), promptIds.length, t.promptMsPerToken(), t.promptTokensPerSecond());
            err.printf("       eval: %8.2f ms / %4d runs   (%8.2f ms per token, %9.2f tokens per second)%n",
                    t.decodeMs(), t.decodeCalls(), t.decodeMsPerToken(), t.tokensPerSecond());
            err.printf("generated %d tokens (%s), %d threads%s, peak memory %s%n", result.tokens().length,
                    result.stopReason().name().toLowerCase().replace('_', ' '), io.quant4j.tensor.Parallel.threads(),
                    beams > 1 ? ", " + beams + " beams" : "", MemoryUsage.format(MemoryUsage.peakResidentBytes()));
        }
        return 0;
    }
}
