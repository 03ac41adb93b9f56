package io.quant4j.model;

import io.quant4j.format.ModelFormatException;
import io.quant4j.testing.Shared;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class Llama2cModelSourceTest {
    private static final String HEADER = "header (dim 64, hidden_dim 172, n_layers 5, n_heads 8, n_kv_heads 4, vocab_size 512, seq_len 512)";

    @TempDir
    Path tmp;

    byte[] original() throws IOException {
        return Files.readAllBytes(Shared.file("models/stories260K/stories260K.bin"));
    }

    Path write(byte[] bytes) throws IOException {
        Path p = tmp.resolve("model.bin");
        Files.write(p, bytes);
        return p;
    }

    @Test
    void readsTheHeaderAndMapsTheWeights() {
        try (ModelWeights w = Llama2cModelSource.load(Shared.file("models/stories260K/stories260K.bin"))) {
            assertThat(w.format()).isEqualTo("llama2.c");
            assertThat(w.metadata()).containsEntry("n_kv_heads", "4").containsEntry("shared_classifier", "true");
            assertThat(w.weights().tokenEmbedding().data().isMapped()).isTrue();
            assertThat(w.tensors()).extracting(TensorEntry::name).contains("wq", "freq_cis_real").doesNotContain("wcls");
            assertThat(w.tensors().stream().mapToLong(TensorEntry::bytes).sum()).isEqualTo(1056540 - 28);
        }
    }

    @Test
    void truncated() throws IOException {
        Path p = write(Arrays.copyOf(original(), 1000000));
        assertThatThrownBy(() -> Llama2cModelSource.load(p)).isInstanceOf(ModelFormatException.class)
                .hasMessage(p + ": truncated or not a llama2.c checkpoint: the " + HEADER + " implies 1056540 bytes but the file has 1000000");
    }

    @Test
    void trailingBytesAreNotALlama2cCheckpoint() throws IOException {
        Path p = write(Arrays.copyOf(original(), 1056544));
        assertThatThrownBy(() -> Llama2cModelSource.load(p)).isInstanceOf(ModelFormatException.class)
                .hasMessageContaining("not a llama2.c checkpoint: the " + HEADER + " implies 1056540 bytes but the file has 1056544");
    }

    @Test
    void nonPositiveAndInconsistentSizes() throws IOException {
        byte[] b = original();
        ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).putInt(8, 0);
        Path p = write(b);
        assertThatThrownBy(() -> Llama2cModelSource.load(p)).isInstanceOf(ModelFormatException.class)
                .hasMessageEndingWith("has sizes that are not positive");
        b = original();
        ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).putInt(16, 3);
        Path q = write(b);
        assertThatThrownBy(() -> Llama2cModelSource.load(q)).isInstanceOf(ModelFormatException.class)
                .hasMessageContaining("is inconsistent");
    }

    @Test
    void absurdSizesDoNotOverflow() throws IOException {
        byte[] b = original();
        ByteBuffer h = ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN);
        h.putInt(0, 1 << 30).putInt(4, Integer.MAX_VALUE).putInt(8, Integer.MAX_VALUE).putInt(12, 1 << 20).putInt(16, 1 << 20);
        Path p = write(b);
        assertThatThrownBy(() -> Llama2cModelSource.load(p)).isInstanceOf(ModelFormatException.class)
                .hasMessageEndingWith("describes an absurdly large model");
    }

    @Test
    void versionedExportIsNamed() throws IOException {
        byte[] b = original();
        ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).putInt(0, 0x616b3432);
        Path p = write(b);
        assertThatThrownBy(() -> Llama2cModelSource.load(p)).isInstanceOf(ModelFormatException.class)
                .hasMessageContaining("versioned llama2.c export (magic \"ak42\")");
    }

    @Test
    void tooShortForTheHeader() throws IOException {
        Path p = write(new byte[10]);
        assertThatThrownBy(() -> Llama2cModelSource.load(p)).isInstanceOf(ModelFormatException.class)
                .hasMessage(p + ": not a llama2.c checkpoint: 10 bytes is shorter than its 28-byte header");
    }

    @Test
    void negativeVocabularyMeansAnUntiedClassifierAtTheEnd() throws IOException {
        byte[] b = original();
        int embedding = 512 * 64 * 4;
        byte[] untied = Arrays.copyOf(b, b.length + embedding);
        System.arraycopy(b, 28, untied, b.length, embedding); // wcls = a copy of the embedding table
        ByteBuffer.wrap(untied).order(ByteOrder.LITTLE_ENDIAN).putInt(20, -512);
        Path p = write(untied);
        try (ModelWeights w = Llama2cModelSource.load(p);
             ModelWeights tied = Llama2cModelSource.load(Shared.file("models/stories260K/stories260K.bin"))) {
            assertThat(w.weights().tiedEmbeddings()).isFalse();
            assertThat(w.config()).isEqualTo(tied.config());
            assertThat(w.tensors()).extracting(TensorEntry::name).endsWith("wcls");
            float[] a = new Llama(w.config(), w.weights()).newSession(4).forward(new int[]{1, 403, 407});
            float[] e = new Llama(tied.config(), tied.weights()).newSession(4).forward(new int[]{1, 403, 407});
            assertThat(a).containsExactly(e);
        }
    }
}
