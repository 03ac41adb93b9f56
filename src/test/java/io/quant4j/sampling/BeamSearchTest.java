package io.quant4j.sampling;

import org.junit.jupiter.api.Test;

import java.util.function.IntPredicate;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

class BeamSearchTest {
    private static final int BOS = 0, A = 1, B = 2, C = 3, D = 4, E = 5, EOS = 6;
    private static final IntPredicate NEVER = t -> false;
    private static final IntPredicate IS_EOS = t -> t == EOS;

    /**
     * From BOS, A (0.6) beats B (0.4), but A's continuations are flat (best 0.34) while B is followed by D with 0.9:
     * greedy finds A C (0.204), the best two-token sequence is B D (0.36).
     */
    private static double[][] greedyTrap() {
        double[][] t = new double[7][];
        t[BOS] = new double[]{0, 0.6, 0.4, 0, 0, 0, 0};
        t[A] = new double[]{0, 0, 0, 0.34, 0.33, 0.33, 0};
        t[B] = new double[]{0, 0, 0, 0.05, 0.9, 0.05, 0};
        t[C] = t[D] = t[E] = new double[]{0, 0.2, 0.2, 0.2, 0.2, 0.2, 0};
        t[EOS] = new double[]{1, 0, 0, 0, 0, 0, 0};
        return t;
    }

    private static BeamSearch.Result search(double[][] table, int beams, int maxNew, IntPredicate eos) {
        MarkovSession s = new MarkovSession(table, 64);
        return new BeamSearch(beams).search(s, s.forward(BOS), maxNew, eos);
    }

    @Test
    void greedyMissesTheLikelierSequenceThatTwoBeamsFind() {
        GenerationResult greedy = Generator.generate(new MarkovSession(greedyTrap(), 64), new int[]{BOS}, 2,
                new Sampler(SamplerConfig.greedy()), NEVER, TokenListener.NONE);
        assertThat(greedy.tokens()).containsExactly(A, C);

        BeamSearch.Result one = search(greedyTrap(), 1, 2, NEVER);
        assertThat(one.tokens()).containsExactly(A, C);
        assertThat(one.best().logProb()).isCloseTo(Math.log(0.6 * 0.34), within(1e-6));

        for (int beams : new int[]{2, 3, 4}) {
            BeamSearch.Result r = search(greedyTrap(), beams, 2, NEVER);
            assertThat(r.tokens()).as("%d beams", beams).containsExactly(B, D);
            assertThat(r.best().logProb()).isCloseTo(Math.log(0.4 * 0.9), within(1e-6));
            assertThat(r.score()).isCloseTo(Math.log(0.36) / 2, within(1e-6));
            assertThat(r.best().endedWithEos()).isFalse();
        }
    }

    /** EOS is the likeliest first token (0.55) but the A B C path scores better per token: length 1 vs 3. */
    private static double[][] shortVersusLong() {
        double[][] t = new double[7][];
        t[BOS] = new double[]{0, 0.45, 0, 0, 0, 0, 0.55};
        t[A] = new double[]{0, 0, 0.99, 0.005, 0, 0, 0.005};
        t[B] = new double[]{0, 0, 0, 0.99, 0.005, 0, 0.005};
        t[C] = t[D] = t[E] = new double[]{0, 0, 0, 0, 0.5, 0.5, 0};
        t[EOS] = new double[]{1, 0, 0, 0, 0, 0, 0};
        return t;
    }

    @Test
    void finishedHypothesesAreRankedBySumOverLength() {
        BeamSearch.Result r = search(shortVersusLong(), 2, 3, IS_EOS);
        double longSum = Math.log(0.45 * 0.99 * 0.99);
        assertThat(r.tokens()).containsExactly(A, B, C);
        assertThat(r.best().endToken()).isEqualTo(-1);
        assertThat(r.score()).isCloseTo(longSum / 3, within(1e-6));

        // Without length normalization the immediate EOS (log 0.55) wins.
        MarkovSession s = new MarkovSession(shortVersusLong(), 64);
        BeamSearch.Result sum = new BeamSearch(2, 0.0).search(s, s.forward(BOS), 3, IS_EOS);
        assertThat(sum.tokens()).isEmpty();
        assertThat(sum.best().endToken()).isEqualTo(EOS);
        assertThat(sum.best().logProb()).isCloseTo(Math.log(0.55), within(1e-6));
    }

    @Test
    void stopsEarlyWhenNoRunningBeamCanBeatTheWorstFinishedOne() {
        double[][] t = new double[7][];
        t[BOS] = t[A] = t[B] = t[C] = t[D] = t[E] = new double[]{0, 0.05, 0.03, 0.01, 0.005, 0.005, 0.9};
        t[EOS] = new double[]{1, 0, 0, 0, 0, 0, 0};
        BeamSearch.Result r = search(t, 2, 20, IS_EOS);
        assertThat(r.steps()).isEqualTo(2);
        assertThat(r.tokens()).isEmpty();
        assertThat(r.best().endToken()).isEqualTo(EOS);
        assertThat(r.score()).isCloseTo(Math.log(0.9), within(1e-6));
    }

    @Test
    void anEndTokenOutsideTheTopNBeamsIsNotAFinishedHypothesis() {
        // From BOS: A 0.5, B 0.3, EOS 0.2 (rank 2 with 2 beams: ignored), then A/B always end with EOS at 0.9.
        double[][] t = new double[7][];
        t[BOS] = new double[]{0, 0.5, 0.3, 0, 0, 0, 0.2};
        t[A] = t[B] = t[C] = t[D] = t[E] = new double[]{0, 0, 0, 0.05, 0.05, 0, 0.9};
        t[EOS] = new double[]{1, 0, 0, 0, 0, 0, 0};
        BeamSearch.Result r = search(t, 2, 5, IS_EOS);
        assertThat(r.tokens()).containsExactly(A);
        assertThat(r.best().endToken()).isEqualTo(EOS);
        assertThat(r.score()).isCloseTo(Math.log(0.5 * 0.9) / 2, within(1e-6));
    }

    @Test
    void keepsAtMostNumBeamsSessionsByCopyingOnlyForForks() {
        MarkovSession s = new MarkovSession(greedyTrap(), 64);
        float[] logits = s.forward(BOS);
        s.counters().forwards = 0;
        BeamSearch.Result r = new BeamSearch(3).search(s, logits, 6, NEVER);
        assertThat(r.steps()).isEqualTo(6);
        // the last step's tokens are never fed; every other step feeds one token per beam
        assertThat(r.forwardCalls()).isEqualTo(s.counters().forwards).isLessThanOrEqualTo(3 * 5);
        // a step needs at most numBeams - 1 copies (one child inherits each parent's session)
        assertThat(r.sessionCopies()).isEqualTo(s.counters().copies).isLessThanOrEqualTo(2 * 5).isPositive();
        assertThat(r.best().logProb()).isCloseTo(MarkovSession.logProb(greedyTrap(), BOS, r.tokens()), within(1e-6));
    }

    @Test
    void stopsWhereTheContextEnds() {
        MarkovSession s = new MarkovSession(greedyTrap(), 3);
        s.forward(BOS);
        float[] logits = s.forward(A);
        // two tokens fed, room for one more: a second new token can still be chosen, not fed
        BeamSearch.Result r = new BeamSearch(2).search(s, logits, 10, NEVER);
        assertThat(r.tokens()).hasSize(2);
        BeamSearch.Result none = new BeamSearch(2).search(s, logits, 0, NEVER);
        assertThat(none.tokens()).isEmpty();
    }

    @Test
    void rejectsNonsense() {
        assertThatThrownBy(() -> new BeamSearch(0)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("beams must be >= 1");
    }
}
