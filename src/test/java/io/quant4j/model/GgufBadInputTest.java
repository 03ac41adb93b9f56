package io.quant4j.model;

import io.quant4j.format.ModelFormatException;
import io.quant4j.format.gguf.GgufFile;
import io.quant4j.tensor.GgmlType;
import io.quant4j.testing.GgufHeaderFields;
import io.quant4j.testing.MutableCopy;
import io.quant4j.testing.Shared;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.stream.IntStream;

import static io.quant4j.model.GgufFuzzTest.le32;
import static io.quant4j.model.GgufFuzzTest.le64;
import static io.quant4j.testing.GgufHeaderFields.Kind.DIM;
import static io.quant4j.testing.GgufHeaderFields.Kind.OFFSET;
import static io.quant4j.testing.GgufHeaderFields.Kind.TYPE;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Specific damage to a GGUF file, with the exact message each one must give. */
class GgufBadInputTest {
    @TempDir
    Path tmp;
    MutableCopy copy;
    GgufHeaderFields fields;
    Path p;

    @BeforeEach
    void copy() {
        copy = new MutableCopy(Shared.file("models/stories260K/stories260K.gguf"), tmp.resolve("bad.gguf"));
        fields = GgufHeaderFields.of(copy.original());
        p = copy.path();
    }

    @Test
    void badMagic() {
        copy.patch(0, "GGUX".getBytes(StandardCharsets.US_ASCII));
        assertThatThrownBy(() -> GgufFile.open(p)).isInstanceOf(ModelFormatException.class).hasMessage(p + ": not a GGUF file (bad magic)");
        // without the magic, ModelLoader takes it for a llama2.c checkpoint, whose header check refuses it
        assertThatThrownBy(() -> ModelLoader.loadWeights(p)).isInstanceOf(ModelFormatException.class)
                .hasMessageStartingWith(p + ": not a llama2.c checkpoint");
    }

    @Test
    void tensorPastTheEndOfTheFile() {
        copy.patch(fields.tensorField("blk.0.attn_q.weight", OFFSET).position(), le64(1185376));
        assertThatThrownBy(() -> ModelLoader.loadWeights(p)).isInstanceOf(ModelFormatException.class)
                .hasMessage(p + ": tensor 'blk.0.attn_q.weight' (16384 bytes at offset 1199552) lies past the end of the file (1185376 bytes): truncated?");
    }

    @Test
    void unknownGgmlTypeId() {
        GgufHeaderFields.Field type = fields.fields().stream()
                .filter(f -> f.kind() == TYPE && f.what().equals("blk.0.attn_q.weight ggml type")).findFirst().orElseThrow();
        copy.patch(type.position(), le32(99));
        assertThatThrownBy(() -> ModelLoader.loadWeights(p)).isInstanceOf(ModelFormatException.class)
                .hasMessage(p + ": tensor 'blk.0.attn_q.weight' has unknown ggml type id 99");
    }

    @Test
    void knownButUnsupportedTypeIsNamed() {
        GgufHeaderFields.Field type = fields.fields().stream()
                .filter(f -> f.kind() == TYPE && f.what().equals("blk.0.attn_q.weight ggml type")).findFirst().orElseThrow();
        copy.patch(type.position(), le32(GgmlType.I32.id));
        assertThatThrownBy(() -> ModelLoader.loadWeights(p)).isInstanceOf(ModelFormatException.class)
                .hasMessage(p + ": tensor 'blk.0.attn_q.weight' has type I32, which quant4j cannot compute with yet");
    }

    @Test
    void shapeThatDoesNotMatchTheConfig() {
        GgufHeaderFields.Field dim1 = fields.fields().stream()
                .filter(f -> f.kind() == DIM && f.what().equals("blk.0.attn_q.weight dim 1")).findFirst().orElseThrow();
        copy.patch(dim1.position(), le64(32));
        assertThatThrownBy(() -> ModelLoader.loadWeights(p)).isInstanceOf(ModelFormatException.class)
                .hasMessage(p + ": tensor 'blk.0.attn_q.weight' has shape [64, 32], expected [64, 64]");
    }

    @Test
    void missingTensor() {
        GgufHeaderFields.Field name = fields.tensorNames().stream().filter(f -> f.what().equals("output_norm.weight")).findFirst().orElseThrow();
        copy.patch(name.position(), "output_norX.weight".getBytes(StandardCharsets.US_ASCII));
        assertThatThrownBy(() -> ModelLoader.loadWeights(p)).isInstanceOf(ModelFormatException.class)
                .hasMessage(p + ": missing tensor 'output_norm.weight'");
    }

    @Test
    void corruptKeyLengthGivesAShortOneLineMessage() {
        // the length of the first key now swallows the rest of the metadata as the key's "name"
        copy.patch(24, le64(5000));
        assertThatThrownBy(() -> ModelLoader.loadWeights(p)).isInstanceOf(ModelFormatException.class)
                .satisfies(e -> {
                    assertThat(e.getMessage()).doesNotContain("\n").startsWith(p + ": ");
                    assertThat(e.getMessage().length()).isLessThan(400);
                });
    }

    @Test
    void tinyRandomF16LoadsAndRuns() {
        try (ModelWeights w = ModelLoader.loadWeights(Shared.file("models/tiny-random/llama-2-tiny-random.gguf"))) {
            assertThat(w.config().vocabSize()).isEqualTo(32000);
            assertThat(w.config().dim()).isEqualTo(8);
            assertThat(w.weights().layers().getFirst().attnQ().type()).isEqualTo(GgmlType.F16);
            LlamaSession s = new Llama(w.config(), w.weights()).newSession(8);
            for (int token : new int[]{1, 450, 4996, 17354}) {
                float[] logits = s.forward(token);
                assertThat(logits).hasSize(32000);
                assertThat(IntStream.range(0, logits.length).allMatch(i -> Float.isFinite(logits[i]))).as("finite logits").isTrue();
            }
        }
    }
}
