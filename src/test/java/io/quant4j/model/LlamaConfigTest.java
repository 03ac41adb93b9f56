package io.quant4j.model;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

class LlamaConfigTest {
    private static LlamaConfig withTheta(float theta) {
        return new LlamaConfig("llama", 64, 172, 1, 8, 4, 8, 512, 512, 1e-5f, theta, 8, RopeScaling.NONE, null);
    }

    @Test
    void ropeThetaMustBeFiniteAndPositive() {
        withTheta(10000f);
        assertThatThrownBy(() -> withTheta(Float.POSITIVE_INFINITY)).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("rope theta");
        assertThatThrownBy(() -> withTheta(Float.NaN)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> withTheta(0f)).isInstanceOf(IllegalArgumentException.class);
    }
}
