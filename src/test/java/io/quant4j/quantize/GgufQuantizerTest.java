package io.quant4j.quantize;

import io.quant4j.format.gguf.GgufFile;
import io.quant4j.testing.Shared;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class GgufQuantizerTest {

    /** Whole-file equality with llama-quantize: metadata order, tensor order, types, offsets and every data byte. */
    @ParameterizedTest
    @CsvSource({
            "synth-mix-Q2_K.gguf, Q2_K, false",
            "synth-mix-Q3_K_M.gguf, Q3_K_M, false",
            "synth-mix-Q3_K_L.gguf, Q3_K_L, false",
            "synth-mix-Q4_0.gguf, Q4_0, false",
            "synth-mix-Q4_K_M.gguf, Q4_K_M, false",
            "synth-mix-Q5_K_M.gguf, Q5_K_M, false",
            "synth-mix-Q8_0.gguf, Q8_0, false",
            "synth-pure-Q2_K.gguf, Q2_K, true",
            "synth-pure-Q3_K_S.gguf, Q3_K_S, true",
            "synth-pure-Q4_0.gguf, Q4_0, true",
            "synth-pure-Q4_1.gguf, Q4_1, true",
            "synth-pure-Q4_K_S.gguf, Q4_K_S, true",
            "synth-pure-Q5_0.gguf, Q5_0, true",
            "synth-pure-Q5_1.gguf, Q5_1, true",
            "synth-pure-Q5_K_S.gguf, Q5_K_S, true",
            "synth-pure-Q6_K.gguf, Q6_K, true",
            "synth-pure-Q8_0.gguf, Q8_0, true",
    })
    void byteIdenticalToLlamaQuantize(String golden, String ftype, boolean pure, @TempDir Path dir) throws IOException {
        Path in = Shared.file("golden/quant/synth-f32.gguf");
        Path ref = Shared.file("golden/quant/" + golden);
        Path out = dir.resolve("out.gguf");
        GgufQuantizer.quantize(in, out, QuantizeOptions.of(FileType.parse(ftype)).withPure(pure), null, null);
        assertThat(Files.readAllBytes(out)).isEqualTo(Files.readAllBytes(ref));
    }

    @Test
    void refusedQuantizationLeavesNoFile(@TempDir Path dir) throws IOException {
        Path in = Shared.file("models/stories260K/stories260K.gguf");
        Path out = dir.resolve("out.gguf");
        assertThatThrownBy(() -> GgufQuantizer.quantize(in, out, QuantizeOptions.of(FileType.Q4_0), null, null))
                .hasMessageContaining("172");
        try (var files = Files.list(dir)) {
            assertThat(files).isEmpty();
        }
    }

    @Test
    void quantizedStoriesLoadsWithFallbackTypes(@TempDir Path dir) {
        Path in = Shared.file("models/stories260K/stories260K.gguf");
        Path out = dir.resolve("q4km.gguf");
        GgufQuantizer.quantize(in, out, QuantizeOptions.of(FileType.Q4_K_M), null, null);
        try (GgufFile f = GgufFile.open(out)) {
            assertThat(f.metadata().getLong("general.file_type")).isEqualTo(15);
            assertThat(f.tensor("blk.0.ffn_down.weight").type().name()).isEqualTo("F16");
            assertThat(f.tensor("blk.0.attn_q.weight").type().name()).isEqualTo("Q5_0");
        }
    }
}
