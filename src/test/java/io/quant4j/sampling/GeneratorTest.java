package io.quant4j.sampling;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.function.IntPredicate;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class GeneratorTest {
    private static final int EOS = 2;
    private static final IntPredicate IS_EOS = t -> t == EOS;
    private static final int[] PROMPT = {1, 7, 8};

    private static Sampler greedy() {
        return new Sampler(SamplerConfig.greedy());
    }

    /** Favours token 10 + position, so the output counts up; EOS at position {@code eosAt}. */
    private static ScriptedSession counting(int contextLength, int eosAt) {
        return new ScriptedSession(64, contextLength, pos -> pos == eosAt ? EOS : 10 + pos);
    }

    @Test
    void stopsAtEndOfGenerationWithoutEmittingOrFeedingIt() {
        ScriptedSession s = counting(32, 6);
        List<Integer> heard = new ArrayList<>();
        GenerationResult r = Generator.generate(s, PROMPT, 10, greedy(), IS_EOS, TokenListener.of(heard::add));
        assertThat(r.tokens()).containsExactly(13, 14, 15);
        assertThat(heard).containsExactly(13, 14, 15);
        assertThat(r.stopReason()).isEqualTo(StopReason.END_OF_GENERATION);
        assertThat(r.endToken()).isEqualTo(EOS);
        assertThat(s.fed).containsExactly(1, 7, 8, 13, 14, 15);
        GenerationTimings t = r.timings();
        assertThat(t.promptTokens()).isEqualTo(3);
        assertThat(t.promptNanos()).isPositive();
        assertThat(t.decodeCalls()).isEqualTo(3);
        assertThat(t.sampledTokens()).isEqualTo(4);
        assertThat(t.promptMsPerToken()).isEqualTo(t.promptMs() / 3);
        assertThat(t.tokensPerSecond()).isPositive();
        assertThat(t.toString()).contains("prompt eval", "tokens per second");
    }

    @Test
    void stopsAfterMaxNewTokensWithAllOfThemFed() {
        ScriptedSession s = counting(32, -1);
        GenerationResult r = Generator.generate(s, PROMPT, 4, greedy(), IS_EOS, TokenListener.NONE);
        assertThat(r.tokens()).containsExactly(13, 14, 15, 16);
        assertThat(r.stopReason()).isEqualTo(StopReason.MAX_TOKENS);
        assertThat(r.endToken()).isEqualTo(-1);
        assertThat(s.position()).isEqualTo(7);

        ScriptedSession none = counting(32, -1);
        GenerationResult zero = Generator.generate(none, PROMPT, 0, greedy(), IS_EOS, TokenListener.NONE);
        assertThat(zero.tokens()).isEmpty();
        assertThat(zero.stopReason()).isEqualTo(StopReason.MAX_TOKENS);
        assertThat(none.position()).isEqualTo(3);
    }

    @Test
    void stopsWhenTheContextIsFull() {
        ScriptedSession s = counting(6, -1);
        GenerationResult r = Generator.generate(s, PROMPT, 100, greedy(), IS_EOS, TokenListener.NONE);
        // 3 free positions after the prompt, plus one last token that is chosen but cannot be fed
        assertThat(r.tokens()).containsExactly(13, 14, 15, 16);
        assertThat(r.stopReason()).isEqualTo(StopReason.CONTEXT_FULL);
        assertThat(s.position()).isEqualTo(6);

        ScriptedSession exact = counting(6, -1);
        GenerationResult r2 = Generator.generate(exact, PROMPT, 4, greedy(), IS_EOS, TokenListener.NONE);
        assertThat(r2.stopReason()).as("the request was met").isEqualTo(StopReason.MAX_TOKENS);
    }

    @Test
    void theListenerCanStopTheGeneration() {
        ScriptedSession s = counting(32, -1);
        GenerationResult r = Generator.generate(s, PROMPT, 10, greedy(), IS_EOS, t -> t != 14);
        assertThat(r.tokens()).containsExactly(13, 14);
        assertThat(r.stopReason()).isEqualTo(StopReason.STOPPED_BY_LISTENER);
        assertThat(s.position()).as("the last token is fed so a chat can go on").isEqualTo(5);
    }

    @Test
    void thePenaltyWindowIncludesThePrompt() {
        // logits favour token 7 (in the prompt) by 20 over 0.0 elsewhere, except token 9 at 18
        ScriptedSession s = new ScriptedSession(16, 32, pos -> 7) {
            @Override
            public float[] forward(int token) {
                float[] l = super.forward(token);
                l[9] = 18f;
                return l;
            }
        };
        Sampler penalized = new Sampler(SamplerConfig.greedy().withRepeatPenalty(1.5f, 64));
        GenerationResult r = Generator.generate(s, PROMPT, 1, penalized, IS_EOS, TokenListener.NONE);
        assertThat(r.tokens()).containsExactly(9);
    }

    @Test
    void rejectsPromptsThatCannotBeFed() {
        assertThatThrownBy(() -> Generator.generate(counting(8, -1), new int[0], 5, greedy(), IS_EOS, TokenListener.NONE))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("prompt is empty");
        assertThatThrownBy(() -> Generator.generate(counting(2, -1), PROMPT, 5, greedy(), IS_EOS, TokenListener.NONE))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("room for 2");
    }

    @Test
    void beamPathReturnsTheSameKindOfResult() {
        double[][] t = new double[7][];
        t[0] = new double[]{0, 0.6, 0.4, 0, 0, 0, 0};
        t[1] = new double[]{0, 0, 0, 0.34, 0.33, 0.33, 0};
        t[2] = new double[]{0, 0, 0, 0.05, 0.9, 0.05, 0};
        t[3] = t[4] = t[5] = new double[]{0, 0, 0, 0, 0, 0.1, 0.9};
        t[6] = new double[]{1, 0, 0, 0, 0, 0, 0};
        List<Integer> heard = new ArrayList<>();
        GenerationResult r = Generator.beamSearch(new MarkovSession(t, 64), new int[]{0}, 8, 2, tok -> tok == 6,
                TokenListener.of(heard::add));
        assertThat(r.tokens()).containsExactly(2, 4);
        assertThat(heard).containsExactly(2, 4);
        assertThat(r.stopReason()).isEqualTo(StopReason.END_OF_GENERATION);
        assertThat(r.endToken()).isEqualTo(6);
        assertThat(r.timings().promptTokens()).isEqualTo(1);
        assertThat(r.timings().decodeCalls()).isPositive();

        GenerationResult capped = Generator.beamSearch(new MarkovSession(t, 64), new int[]{0}, 1, 2, tok -> false,
                TokenListener.NONE);
        assertThat(capped.tokens()).containsExactly(1);
        assertThat(capped.stopReason()).isEqualTo(StopReason.MAX_TOKENS);

        GenerationResult cut = Generator.beamSearch(new MarkovSession(t, 64), new int[]{0}, 8, 2, tok -> tok == 6,
                tok -> false);
        assertThat(cut.tokens()).containsExactly(2);
        assertThat(cut.stopReason()).isEqualTo(StopReason.STOPPED_BY_LISTENER);
        assertThat(cut.endToken()).isEqualTo(-1);
    }
}
