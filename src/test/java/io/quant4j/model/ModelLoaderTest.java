package io.quant4j.model;

import io.quant4j.format.ModelFormatException;
import io.quant4j.testing.Shared;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class ModelLoaderTest {
    @TempDir
    Path tmp;

    @Test
    void nonexistentPath() {
        Path p = tmp.resolve("nothing-here.gguf");
        assertThatThrownBy(() -> ModelLoader.loadWeights(p)).isInstanceOf(ModelFormatException.class)
                .hasMessage(p + ": no such file or directory");
    }

    @Test
    void detectsEachFormat() {
        try (ModelWeights g = ModelLoader.loadWeights(Shared.file("models/stories260K/stories260K.gguf"));
             ModelWeights b = ModelLoader.loadWeights(Shared.file("models/stories260K/stories260K.bin"));
             ModelWeights h = ModelLoader.loadWeights(Shared.file("models/stories260K/hf"))) {
            assertThat(g.format()).isEqualTo("GGUF v3");
            assertThat(b.format()).isEqualTo("llama2.c");
            assertThat(h.format()).isEqualTo("Hugging Face safetensors");
            assertThat(h.metadata()).containsEntry("model_type", "llama").containsEntry("safetensors.format", "pt");
            assertThat(h.tensors()).hasSize(47);
        }
    }

    @Test
    void emptyFileIsRejectedNotCrashed() throws IOException {
        Path p = Files.createFile(tmp.resolve("empty.bin"));
        assertThatThrownBy(() -> ModelLoader.loadWeights(p)).isInstanceOf(ModelFormatException.class)
                .hasMessageStartingWith(p + ": not a llama2.c checkpoint");
    }

    @Test
    void emptyFolderIsRejected() throws IOException {
        Path dir = Files.createDirectory(tmp.resolve("empty"));
        assertThatThrownBy(() -> ModelLoader.loadWeights(dir)).isInstanceOf(ModelFormatException.class)
                .hasMessage(dir.resolve("config.json") + ": no such file");
    }

    @Test
    void unsupportedGgufArchitectureIsNamed() throws IOException {
        byte[] b = Files.readAllBytes(Shared.file("models/stories260K/stories260K.gguf"));
        String text = new String(b, java.nio.charset.StandardCharsets.ISO_8859_1);
        int at = text.indexOf("general.architecture") + "general.architecture".length() + 4 + 8;
        b[at] = 'x'; // "llama" -> "xlama"
        Path p = tmp.resolve("arch.gguf");
        Files.write(p, b);
        assertThatThrownBy(() -> ModelLoader.loadWeights(p)).isInstanceOf(ModelFormatException.class)
                .hasMessageStartingWith(p + ": architecture 'xlama' is not supported");
    }
}
