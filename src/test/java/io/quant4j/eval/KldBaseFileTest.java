package io.quant4j.eval;

import io.quant4j.format.ModelFormatException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Writer and reader of the KL-divergence base file agree, and damage to the file is named, not misread. */
class KldBaseFileTest {
    private static final int CTX = 8;
    private static final int VOCAB = 5; // odd, so every row carries one padding value
    private static final int CHUNKS = 3;

    private static int[] tokens() {
        int[] t = new int[CHUNKS * CTX + 3]; // a tail that does not fill a chunk is not stored
        for (int i = 0; i < t.length; i++) {
            t[i] = (i * 3) % VOCAB;
        }
        return t;
    }

    /** Writes a file with random logits; returns the rows as they were encoded. */
    private static float[][] write(Path file, PerplexityProtocol protocol) {
        KldBaseFile layout = new KldBaseFile(protocol, CTX, VOCAB, CHUNKS);
        int rows = CHUNKS * layout.rowsPerChunk();
        float[][] stored = new float[rows][VOCAB];
        Random r = new Random(3);
        try (KldBaseWriter w = new KldBaseWriter(file, protocol, CTX, VOCAB, CHUNKS, tokens())) {
            for (int k = 0; k < rows; k++) {
                float[] logits = new float[VOCAB];
                for (int i = 0; i < VOCAB; i++) {
                    logits[i] = (float) r.nextGaussian() * 3;
                }
                LogProbRow row = new LogProbRow(VOCAB);
                row.encode(logits, 0);
                for (int i = 0; i < VOCAB; i++) {
                    stored[k][i] = row.logProb(i);
                }
                w.write(logits, k % VOCAB);
            }
            w.commit();
        }
        return stored;
    }

    @Test
    void roundTripLlamaCppLayout(@TempDir Path dir) throws IOException {
        Path f = dir.resolve("base.kld");
        float[][] stored = write(f, PerplexityProtocol.LLAMACPP);
        KldBaseFile layout = new KldBaseFile(PerplexityProtocol.LLAMACPP, CTX, VOCAB, CHUNKS);
        assertThat(layout.rowsPerChunk()).isEqualTo(CTX - 1 - CTX / 2);
        assertThat(Files.size(f)).isEqualTo(20 + 4L * CTX * CHUNKS + (long) CHUNKS * 3 * 2 * (6 + 4));

        byte[] bytes = Files.readAllBytes(f);
        assertThat(new String(bytes, 0, 8, java.nio.charset.StandardCharsets.US_ASCII)).isEqualTo("_logits_");
        ByteBuffer b = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        assertThat(b.getInt(8)).isEqualTo(CTX);
        assertThat(b.getInt(12)).isEqualTo(VOCAB);
        assertThat(b.getInt(16)).isEqualTo(CHUNKS);

        try (KldBaseReader r = KldBaseReader.open(f)) {
            assertThat(r.layout()).isEqualTo(layout);
            assertThat(r.tokens()).containsExactly(Arrays.copyOf(tokens(), CHUNKS * CTX));
            for (float[] expected : stored) {
                LogProbRow row = r.nextRow();
                for (int i = 0; i < VOCAB; i++) {
                    assertThat(row.logProb(i)).isEqualTo(expected[i]);
                }
            }
            assertThatThrownBy(r::nextRow).isInstanceOf(IllegalStateException.class);
        }
    }

    @Test
    void roundTripGptqVariant(@TempDir Path dir) {
        Path f = dir.resolve("gptq.kld");
        float[][] stored = write(f, PerplexityProtocol.GPTQ);
        try (KldBaseReader r = KldBaseReader.open(f)) {
            assertThat(r.layout().protocol()).isEqualTo(PerplexityProtocol.GPTQ);
            assertThat(r.layout().rowsPerChunk()).isEqualTo(CTX - 1);
            for (float[] expected : stored) {
                assertThat(r.nextRow().logProb(2)).isEqualTo(expected[2]);
            }
        }
    }

    @Test
    void uncommittedWriterLeavesNothing(@TempDir Path dir) throws IOException {
        Path f = dir.resolve("base.kld");
        try (KldBaseWriter w = new KldBaseWriter(f, PerplexityProtocol.LLAMACPP, CTX, VOCAB, CHUNKS, tokens())) {
            w.write(new float[VOCAB], 0);
            assertThatThrownBy(w::commit).hasMessageContaining("1 positions were written, the header promises 9");
        }
        try (var files = Files.list(dir)) {
            assertThat(files).isEmpty();
        }
    }

    @Test
    void truncationAtEveryRegionIsReported(@TempDir Path dir) throws IOException {
        Path f = dir.resolve("base.kld");
        write(f, PerplexityProtocol.LLAMACPP);
        byte[] whole = Files.readAllBytes(f);
        for (int cut : new int[] {0, 5, 12, 20, 40, whole.length - 1}) {
            Path t = dir.resolve("cut" + cut);
            Files.write(t, Arrays.copyOf(whole, cut));
            assertThatThrownBy(() -> KldBaseReader.open(t).close())
                    .isInstanceOf(ModelFormatException.class)
                    .hasMessageStartingWith(t + ": ")
                    .satisfies(e -> assertThat(e.getMessage()).containsAnyOf("truncated", "not a KL-divergence base file"));
        }
        Path longer = dir.resolve("longer");
        Files.write(longer, Arrays.copyOf(whole, whole.length + 2));
        assertThatThrownBy(() -> KldBaseReader.open(longer).close()).hasMessageContaining("2 bytes after the last row");
    }

    @Test
    void corruptHeaderTokensAndRowsAreReported(@TempDir Path dir) throws IOException {
        Path f = dir.resolve("base.kld");
        write(f, PerplexityProtocol.LLAMACPP);
        assertThatThrownBy(() -> KldBaseReader.open(patched(f, dir, 0, 'X'))).hasMessageContaining("not a KL-divergence base file");
        assertThatThrownBy(() -> KldBaseReader.open(patchedInt(f, dir, 8, -1))).hasMessageContaining("corrupt header: n_ctx");
        assertThatThrownBy(() -> KldBaseReader.open(patchedInt(f, dir, 12, 0))).hasMessageContaining("corrupt header: n_vocab");
        assertThatThrownBy(() -> KldBaseReader.open(patchedInt(f, dir, 16, 0))).hasMessageContaining("corrupt header: n_chunk");
        assertThatThrownBy(() -> KldBaseReader.open(patchedInt(f, dir, 16, Integer.MAX_VALUE))).hasMessageContaining("truncated");
        assertThatThrownBy(() -> KldBaseReader.open(patchedInt(f, dir, 20, 99))).hasMessageContaining("token 0 is 99, outside the vocabulary of 5");
        long firstRow = 20 + 4L * CTX * CHUNKS;
        try (KldBaseReader r = KldBaseReader.open(patchedInt(f, dir, firstRow, Float.floatToIntBits(Float.NaN)))) {
            assertThatThrownBy(r::nextRow).hasMessageContaining("corrupt row at position 0 (chunk 1)");
        }
        assertThatThrownBy(() -> KldBaseReader.open(dir.resolve("missing.kld"))).hasMessageContaining("no such KL-divergence base file");
    }

    private static Path patched(Path f, Path dir, long offset, char c) throws IOException {
        Path p = dir.resolve("patched-" + offset + "-" + (int) c);
        Files.copy(f, p);
        try (RandomAccessFile raf = new RandomAccessFile(p.toFile(), "rw")) {
            raf.seek(offset);
            raf.write(c);
        }
        return p;
    }

    private static Path patchedInt(Path f, Path dir, long offset, int value) throws IOException {
        Path p = dir.resolve("patched-" + offset + "-" + value);
        Files.copy(f, p);
        try (RandomAccessFile raf = new RandomAccessFile(p.toFile(), "rw")) {
            raf.seek(offset);
            raf.write(ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(value).array());
        }
        return p;
    }
}
