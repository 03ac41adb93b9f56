package io.quant4j.model;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

/** Llama-3 frequency scaling as transformers' _compute_llama3_parameters (factor 8, low 1, high 4, 8192). */
class RopeScalingTest {
    private final RopeScaling llama3 = RopeScaling.llama3(8f, 1f, 4f, 8192);

    @Test
    void highFrequenciesAreKept() {
        double f = 1.0; // wavelength 2π < 8192/4
        assertThat(llama3.apply(f)).isEqualTo(f);
    }

    @Test
    void lowFrequenciesAreDividedByTheFactor() {
        double f = 2 * Math.PI / 20000; // wavelength 20000 > 8192/1
        assertThat(llama3.apply(f)).isCloseTo(f / 8, within(1e-15));
    }

    @Test
    void theRampInterpolatesBetweenBoth() {
        double wavelen = 4096; // between 2048 and 8192
        double f = 2 * Math.PI / wavelen;
        double smooth = (8192 / wavelen - 1) / (4 - 1); // = 1/3
        assertThat(llama3.apply(f)).isCloseTo((1 - smooth) * f / 8 + smooth * f, within(1e-15));
    }

    @Test
    void linearDividesEveryFrequency() {
        assertThat(RopeScaling.linear(4f).apply(0.5)).isEqualTo(0.125);
        assertThat(RopeScaling.NONE.apply(0.5)).isEqualTo(0.5);
    }
}
