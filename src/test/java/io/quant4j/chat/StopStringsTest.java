package io.quant4j.chat;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class StopStringsTest {
    private final StopStrings stops = new StopStrings(ChatTemplate.GUANACO.stopStrings());

    @Test
    void findsTheEarliestStopString() {
        StopStrings two = new StopStrings(List.of("<|im_end|>", "<|im_start|>"));
        assertThat(two.find("Blue.<|im_start|>user<|im_end|>")).isEqualTo(5);
        assertThat(stops.find("Blue.\n### Human: and")).isEqualTo(6);
        assertThat(stops.find("Blue.")).isEqualTo(-1);
    }

    @Test
    void holdsBackATailThatMayBecomeAStopString() {
        assertThat(stops.safeLength("Blue.\n### Hu")).isEqualTo(6);
        assertThat(stops.safeLength("Blue.\n#")).isEqualTo(6);
        assertThat(stops.safeLength("Blue #1")).isEqualTo(7);
        assertThat(stops.safeLength("Blue.\n### Human: more")).isEqualTo(6);
        assertThat(stops.safeLength("")).isZero();
    }
}
