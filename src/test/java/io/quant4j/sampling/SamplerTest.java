package io.quant4j.sampling;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Random;
import java.util.stream.IntStream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

class SamplerTest {
    private static final int[] NONE = new int[0];

    /** Logits whose softmax (temperature 1) is exactly the given distribution. */
    private static float[] logitsOf(double... probs) {
        float[] l = new float[probs.length];
        for (int i = 0; i < probs.length; i++) {
            l[i] = (float) Math.log(probs[i]);
        }
        return l;
    }

    private static SamplerConfig plain(long seed) {
        // temperature 1 and every filter off
        return new SamplerConfig(1f, 0, 1f, 0f, 1f, 64, seed);
    }

    @Test
    void greedyIsArgmaxAndLowestIdWinsTies() {
        Sampler s = new Sampler(SamplerConfig.greedy());
        assertThat(s.sample(new float[]{0.1f, 3f, -2f, 2.9f})).isEqualTo(1);
        assertThat(s.sample(new float[]{1f, 5f, 5f, 5f, 4f})).isEqualTo(1);
        assertThat(s.sample(new float[]{7f, 7f})).isEqualTo(0);
        assertThat(s.sample(new float[]{-3f, -1f, -1f})).isEqualTo(1);
    }

    @Test
    void seededSamplingIsReproducibleAndSeedsDiffer() {
        float[] logits = new float[50]; // uniform: every draw is informative
        int[] a = draws(new Sampler(plain(42)), logits, 100);
        int[] b = draws(new Sampler(plain(42)), logits, 100);
        int[] c = draws(new Sampler(plain(43)), logits, 100);
        assertThat(a).isEqualTo(b);
        assertThat(a).isNotEqualTo(c);
        assertThat(IntStream.of(a).distinct().count()).isGreaterThan(20);
    }

    private static int[] draws(Sampler s, float[] logits, int n) {
        int[] out = new int[n];
        for (int i = 0; i < n; i++) {
            out[i] = s.sample(logits);
        }
        return out;
    }

    @Test
    void topKOfOneIsGreedyWhateverTheTemperature() {
        Random r = new Random(1);
        Sampler greedy = new Sampler(SamplerConfig.greedy());
        Sampler topOne = new Sampler(plain(5).withTopK(1).withTemperature(5f));
        for (int trial = 0; trial < 200; trial++) {
            float[] logits = new float[100];
            for (int i = 0; i < logits.length; i++) {
                logits[i] = (float) r.nextGaussian();
            }
            assertThat(topOne.sample(logits)).isEqualTo(greedy.sample(logits));
        }
    }

    @Test
    void topPKeepsTheSmallestPrefixReachingPAndRenormalizes() {
        float[] logits = logitsOf(0.4, 0.25, 0.15, 0.1, 0.06, 0.04);
        // cumulative 0.40, 0.65, 0.80: three tokens reach 0.7
        double[] expected = {0.4 / 0.8, 0.25 / 0.8, 0.15 / 0.8, 0, 0, 0};
        assertFrequencies(new Sampler(plain(3).withTopP(0.7f)), logits, expected);
        // the same through the top-k path (top-k 5 removes only the last token first; top-p then sees 0.96 mass)
        double[] afterTopK = {0.4 / 0.8, 0.25 / 0.8, 0.15 / 0.8, 0, 0, 0};
        assertFrequencies(new Sampler(plain(4).withTopK(5).withTopP(0.7f)), logits, afterTopK);
    }

    @Test
    void topPMeasuresMassWithinTheTopKSurvivors() {
        float[] logits = logitsOf(0.4, 0.25, 0.15, 0.1, 0.06, 0.04);
        // top-k 2 leaves {0.4, 0.25} → renormalized 0.615, 0.385; top-p 0.6 then keeps just the first
        double[] expected = {1, 0, 0, 0, 0, 0};
        assertFrequencies(new Sampler(plain(5).withTopK(2).withTopP(0.6f)), logits, expected);
    }

    @Test
    void minPDropsTokensBelowAFractionOfTheTopProbability() {
        float[] logits = logitsOf(0.4, 0.25, 0.15, 0.1, 0.06, 0.04);
        // 0.2 * 0.4 = 0.08: keeps 0.4, 0.25, 0.15, 0.1
        double[] expected = {0.4 / 0.9, 0.25 / 0.9, 0.15 / 0.9, 0.1 / 0.9, 0, 0};
        assertFrequencies(new Sampler(plain(6).withMinP(0.2f)), logits, expected);
        assertFrequencies(new Sampler(plain(7).withMinP(0.2f).withTopK(5)), logits, expected);
    }

    @Test
    void temperatureSharpensAfterFiltering() {
        float[] logits = logitsOf(0.5, 0.3, 0.2);
        // temperature 0.5 squares the probabilities: 0.25, 0.09, 0.04 over 0.38
        double[] expected = {0.25 / 0.38, 0.09 / 0.38, 0.04 / 0.38};
        assertFrequencies(new Sampler(plain(8).withTemperature(0.5f)), logits, expected);
    }

    private static void assertFrequencies(Sampler sampler, float[] logits, double[] expected) {
        int n = 40_000;
        int[] counts = new int[logits.length];
        for (int i = 0; i < n; i++) {
            counts[sampler.sample(logits)]++;
        }
        for (int t = 0; t < expected.length; t++) {
            double p = expected[t];
            if (p == 0) {
                assertThat(counts[t]).as("token %d must be filtered out", t).isZero();
            } else {
                double sigma = Math.sqrt(p * (1 - p) / n);
                assertThat((double) counts[t] / n).as("frequency of token %d", t).isCloseTo(p, within(5 * sigma + 1e-12));
            }
        }
        // and the exact distribution agrees too
        double[] exact = sampler.distribution(logits, NONE, 0);
        for (int t = 0; t < expected.length; t++) {
            assertThat(exact[t]).isCloseTo(expected[t], within(1e-6));
        }
    }

    @Test
    void repetitionPenaltyChangesTheArgmax() {
        Sampler s = new Sampler(SamplerConfig.greedy().withRepeatPenalty(1.2f, 64));
        float[] positive = {2.0f, 1.9f, -1f};
        assertThat(s.sample(positive, new int[]{0}, 1)).as("2.0 / 1.2 < 1.9").isEqualTo(1);
        float[] negative = {-0.5f, -0.55f, -3f};
        assertThat(s.sample(negative, new int[]{0, 0, 0}, 3)).as("-0.5 * 1.2 < -0.55, once however often seen").isEqualTo(1);
        assertThat(positive).containsExactly(2.0f, 1.9f, -1f); // caller's logits untouched
        // a token outside the last-N window is not penalized
        Sampler windowed = new Sampler(SamplerConfig.greedy().withRepeatPenalty(1.2f, 2));
        assertThat(windowed.sample(positive, new int[]{0, 2, 2}, 3)).isEqualTo(0);
        assertThat(windowed.sample(positive, new int[]{2, 0, 7}, 2)).as("only history[0..length) counts").isEqualTo(1);
    }

    @Test
    void filteredDistributionMatchesAFullSortReference() {
        Random r = new Random(11);
        for (int trial = 0; trial < 300; trial++) {
            int vocab = 1 + r.nextInt(700);
            float[] logits = new float[vocab];
            for (int i = 0; i < vocab; i++) {
                // coarse values so that ties occur
                logits[i] = Math.round(r.nextGaussian() * 3 * 4) / 4f;
            }
            int[] history = r.ints(r.nextInt(10), 0, vocab).toArray();
            SamplerConfig c = new SamplerConfig(0.2f + 2 * r.nextFloat(), r.nextInt(3) == 0 ? 0 : 1 + r.nextInt(60),
                    r.nextInt(3) == 0 ? 1f : 0.05f + 0.95f * r.nextFloat(), r.nextInt(3) == 0 ? 0f : 0.3f * r.nextFloat(),
                    r.nextBoolean() ? 1f : 1.3f, r.nextInt(4) - 1, trial);
            double[] actual = new Sampler(c).distribution(logits, history, history.length);
            double[] expected = reference(c, logits, history);
            for (int t = 0; t < vocab; t++) {
                assertThat(actual[t]).as("trial %d token %d config %s", trial, t, c).isCloseTo(expected[t], within(1e-9));
            }
        }
    }

    /** The pipeline done the obvious way: sort everything, cut prefixes. */
    private static double[] reference(SamplerConfig c, float[] original, int[] history) {
        float[] l = original.clone();
        int window = c.repeatLastN() < 0 ? history.length : Math.min(c.repeatLastN(), history.length);
        if (c.repeatPenalty() != 1f) {
            for (int i = history.length - window; i < history.length; i++) {
                float v = original[history[i]];
                l[history[i]] = v <= 0 ? v * c.repeatPenalty() : v / c.repeatPenalty();
            }
        }
        List<Integer> order = new ArrayList<>(IntStream.range(0, l.length).boxed().toList());
        order.sort(Comparator.<Integer>comparingDouble(i -> -l[i]).thenComparingInt(i -> i));
        int n = c.topK() > 0 ? Math.min(c.topK(), l.length) : l.length;
        float max = l[order.get(0)];
        if (c.topP() < 1f) {
            double z = 0;
            for (int i = 0; i < n; i++) {
                z += Math.exp(l[order.get(i)] - max);
            }
            double mass = 0;
            for (int i = 0; i < n; i++) {
                mass += Math.exp(l[order.get(i)] - max) / z;
                if (mass >= c.topP()) {
                    n = i + 1;
                    break;
                }
            }
        }
        if (c.minP() > 0) {
            int keep = 1;
            while (keep < n && l[order.get(keep)] >= max + Math.log(c.minP())) {
                keep++;
            }
            n = keep;
        }
        double[] p = new double[l.length];
        double z = 0;
        for (int i = 0; i < n; i++) {
            z += Math.exp((l[order.get(i)] - max) / (double) c.temperature());
        }
        for (int i = 0; i < n; i++) {
            p[order.get(i)] = Math.exp((l[order.get(i)] - max) / (double) c.temperature()) / z;
        }
        return p;
    }
}
