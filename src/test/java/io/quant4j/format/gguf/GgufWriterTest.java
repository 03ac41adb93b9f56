package io.quant4j.format.gguf;

import io.quant4j.testing.Shared;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class GgufWriterTest {

    /** Re-writing a llama.cpp-made GGUF through our reader and writer must reproduce it byte for byte. */
    @Test
    void copyOfStories260kIsByteIdentical(@TempDir Path dir) throws IOException {
        Path in = Shared.file("models/stories260K/stories260K.gguf");
        Path out = dir.resolve("copy.gguf");
        copy(in, out);
        assertThat(Files.readAllBytes(out)).isEqualTo(Files.readAllBytes(in));
    }

    @Test
    void copyOfQuantizedGoldenFileIsByteIdentical(@TempDir Path dir) throws IOException {
        Path in = Shared.file("golden/quant/synth-mix-Q4_K_M.gguf");
        Path out = dir.resolve("copy.gguf");
        copy(in, out);
        assertThat(Files.readAllBytes(out)).isEqualTo(Files.readAllBytes(in));
    }

    @Test
    void abandonedWriteLeavesNoFile(@TempDir Path dir) throws IOException {
        Path in = Shared.file("models/stories260K/stories260K.gguf");
        Path out = dir.resolve("partial.gguf");
        try (GgufFile src = GgufFile.open(in); GgufWriter w = new GgufWriter(out, src.alignment())) {
            src.metadata().asMap().forEach(w::put);
            src.tensors().values().forEach(t -> w.addTensor(t.name(), t.shape(), t.type()));
            w.writeHeader();
            GgufTensorInfo first = src.tensors().values().iterator().next();
            w.writeTensorData(src.data(first));
            assertThatThrownBy(w::finish).isInstanceOf(IllegalStateException.class);
        }
        try (var files = Files.list(dir)) {
            assertThat(files).isEmpty();
        }
    }

    private static void copy(Path in, Path out) {
        try (GgufFile src = GgufFile.open(in); GgufWriter w = new GgufWriter(out, src.alignment())) {
            src.metadata().asMap().forEach(w::put);
            src.tensors().values().forEach(t -> w.addTensor(t.name(), t.shape(), t.type()));
            w.writeHeader();
            for (GgufTensorInfo t : src.tensors().values()) {
                w.writeTensorData(src.data(t));
            }
            w.finish();
        }
    }
}
