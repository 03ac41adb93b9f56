package io.quant4j.sampling;

import io.quant4j.format.gguf.GgufFile;
import io.quant4j.model.GgufModelSource;
import io.quant4j.model.Llama;
import io.quant4j.model.LlamaSession;
import io.quant4j.model.ModelWeights;
import io.quant4j.testing.Shared;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

/** Beam search and the generator on the real stories260K model. */
class StoriesBeamSearchTest {
    private static final int BOS = 1;
    /** llama2.c's TinyStories models separate stories with BOS and never emit EOS (2), so BOS ends a story. */
    private static final int STORY_END = BOS;
    private static final int[] PROMPT = {BOS, 403, 407};
    private static final int NEW_TOKENS = 40;

    private static GgufFile gguf;
    private static Llama llama;

    @BeforeAll
    static void load() {
        gguf = GgufFile.open(Shared.file("models/stories260K/stories260K.gguf"));
        ModelWeights weights = GgufModelSource.load(gguf);
        llama = new Llama(weights.config(), weights.weights());
    }

    @AfterAll
    static void close() {
        if (gguf != null) {
            gguf.close();
        }
    }

    private static LlamaSession session() {
        return llama.newSession(256);
    }

    /** log P(tokens | PROMPT), recomputed with a fresh session. */
    private static double logProb(int[] tokens) {
        LlamaSession s = session();
        float[] logits = s.forward(PROMPT);
        double sum = 0;
        for (int t : tokens) {
            sum += logits[t] - BeamSearch.logSumExp(logits);
            logits = s.forward(t);
        }
        return sum;
    }

    private static int[] greedy() {
        return Generator.generate(session(), PROMPT, NEW_TOKENS, new Sampler(SamplerConfig.greedy()), t -> false,
                TokenListener.NONE).tokens();
    }

    private static BeamSearch.Result beams(int n) {
        LlamaSession s = session();
        return new BeamSearch(n).search(s, s.forward(PROMPT), NEW_TOKENS, t -> false);
    }

    @Test
    void oneBeamIsGreedy() {
        BeamSearch.Result one = beams(1);
        assertThat(one.tokens()).containsExactly(greedy());
        assertThat(one.sessionCopies()).isZero();
    }

    @Test
    void fourBeamsFindASequenceAtLeastAsLikelyAsGreedy() {
        int[] greedy = greedy();
        BeamSearch.Result four = beams(4);
        assertThat(four.tokens()).hasSize(NEW_TOKENS);
        // the score it reports is the true log-probability: forked sessions carried the right KV caches
        assertThat(four.best().logProb()).isCloseTo(logProb(four.tokens()), within(1e-3));
        assertThat(four.best().logProb()).isGreaterThanOrEqualTo(logProb(greedy));
        assertThat(four.sessionCopies()).isLessThanOrEqualTo(3 * (NEW_TOKENS - 1));
    }

    @Test
    void generationStopsWhereTheStoryEnds() {
        // the greedy story runs ~370 tokens: give it the model's whole 512-token context
        GenerationResult sampled = Generator.generate(llama.newSession(512), PROMPT, 500, new Sampler(SamplerConfig.greedy()),
                t -> t == STORY_END, TokenListener.NONE);
        GenerationResult beam = Generator.beamSearch(llama.newSession(512), PROMPT, 500, 4, t -> t == STORY_END, TokenListener.NONE);
        for (GenerationResult r : new GenerationResult[]{sampled, beam}) {
            assertThat(r.stopReason()).isEqualTo(StopReason.END_OF_GENERATION);
            assertThat(r.endToken()).isEqualTo(STORY_END);
            assertThat(r.tokens()).isNotEmpty().doesNotContain(STORY_END);
        }
    }

    @Test
    void seededSamplingIsReproducibleOnTheModel() {
        SamplerConfig c = SamplerConfig.defaults(1234);
        int[] a = Generator.generate(session(), PROMPT, 30, new Sampler(c), t -> t == STORY_END, TokenListener.NONE).tokens();
        int[] b = Generator.generate(session(), PROMPT, 30, new Sampler(c), t -> t == STORY_END, TokenListener.NONE).tokens();
        assertThat(a).isEqualTo(b).isNotEmpty();
    }
}
