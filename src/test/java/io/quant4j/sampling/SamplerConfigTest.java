package io.quant4j.sampling;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class SamplerConfigTest {

    @Test
    void defaultsAreLlamaCpps() {
        SamplerConfig c = SamplerConfig.defaults(7);
        assertThat(c.temperature()).isEqualTo(0.8f);
        assertThat(c.topK()).isEqualTo(40);
        assertThat(c.topP()).isEqualTo(0.95f);
        assertThat(c.minP()).isEqualTo(0.05f);
        assertThat(c.repeatPenalty()).isEqualTo(1.0f);
        assertThat(c.repeatLastN()).isEqualTo(64);
        assertThat(c.seed()).isEqualTo(7);
        assertThat(c.penalizesRepeats()).isFalse();
        assertThat(c.isGreedy()).isFalse();
        assertThat(SamplerConfig.greedy().isGreedy()).isTrue();
    }

    @Test
    void rejectsOutOfRangeValuesWithOneLineMessages() {
        SamplerConfig c = SamplerConfig.defaults(0);
        assertThatThrownBy(() -> c.withTemperature(-0.1f)).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("temperature must be >= 0 (0 = greedy), got -0.1");
        assertThatThrownBy(() -> c.withTemperature(Float.NaN)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> c.withTopK(-1)).hasMessageContaining("top_k must be >= 0");
        assertThatThrownBy(() -> c.withTopP(0f)).hasMessage("top_p must be in (0, 1], got 0.0");
        assertThatThrownBy(() -> c.withTopP(1.5f)).hasMessageContaining("top_p must be in (0, 1]");
        assertThatThrownBy(() -> c.withTopP(Float.NaN)).hasMessageContaining("top_p");
        assertThatThrownBy(() -> c.withMinP(-0.01f)).hasMessageContaining("min_p must be in [0, 1]");
        assertThatThrownBy(() -> c.withMinP(1.01f)).hasMessageContaining("min_p");
        assertThatThrownBy(() -> c.withRepeatPenalty(0f, 64)).hasMessageContaining("repeat_penalty must be > 0");
        assertThatThrownBy(() -> c.withRepeatPenalty(1.1f, -2)).hasMessageContaining("repeat_last_n must be >= -1");
        assertThat(c.withRepeatPenalty(1.1f, -1).penalizesRepeats()).isTrue();
        assertThat(c.withRepeatPenalty(1.1f, 0).penalizesRepeats()).isFalse();
    }
}
