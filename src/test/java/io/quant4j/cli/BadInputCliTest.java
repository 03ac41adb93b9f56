package io.quant4j.cli;

import io.quant4j.testing.Shared;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

import static org.assertj.core.api.Assertions.assertThat;

/** Bad input ends in one line "error: FILE: problem" and exit code 1, never a stack trace. */
class BadInputCliTest {

    private static void assertOneLineError(CliRunner r, String... fragments) {
        assertThat(r.exitCode()).as(r.err()).isEqualTo(1);
        String err = r.err().strip();
        assertThat(err.lines().count()).as(err).isEqualTo(1);
        assertThat(err).startsWith("error: ").doesNotContain("Exception").doesNotContain("\tat ");
        for (String f : fragments) {
            assertThat(err).contains(f);
        }
    }

    @Test
    void truncatedGguf(@TempDir Path dir) throws IOException {
        byte[] all = Files.readAllBytes(Shared.file("models/stories260K/stories260K.gguf"));
        Path cut = dir.resolve("cut.gguf");
        Files.write(cut, Arrays.copyOf(all, all.length / 2));
        assertOneLineError(CliRunner.run("generate", "-m", cut.toString(), "-p", "hi"), "cut.gguf", "past the end");
    }

    @Test
    void badMagic(@TempDir Path dir) throws IOException {
        byte[] all = Files.readAllBytes(Shared.file("models/stories260K/stories260K.gguf"));
        all[0] = 'X';
        Path bad = dir.resolve("bad.gguf");
        Files.write(bad, all);
        // no GGUF magic: taken for a llama2.c checkpoint, whose size then cannot match its header
        assertOneLineError(CliRunner.run("inspect", bad.toString()), "bad.gguf");
    }

    @Test
    void missingFile() {
        assertOneLineError(CliRunner.run("generate", "-m", "/nonexistent/model.gguf", "-p", "hi"), "/nonexistent/model.gguf");
    }

    @Test
    void badConfigJson(@TempDir Path dir) throws IOException {
        Path hf = Shared.file("models/stories260K/hf");
        Path copy = dir.resolve("hf");
        Files.createDirectories(copy);
        try (var files = Files.list(hf)) {
            for (Path f : files.toList()) {
                Files.copy(f, copy.resolve(f.getFileName()));
            }
        }
        Files.writeString(copy.resolve("config.json"), "{ \"hidden_size\": 64, ");
        assertOneLineError(CliRunner.run("generate", "-m", copy.toString(), "-p", "hi"), "config.json");
    }

    @Test
    void llama2cWithoutTokenizer(@TempDir Path dir) throws IOException {
        Path bin = dir.resolve("stories260K.bin");
        Files.copy(Shared.file("models/stories260K/stories260K.bin"), bin);
        assertOneLineError(CliRunner.run("generate", "-m", bin.toString(), "-p", "hi"), "--tokenizer");
    }

    @Test
    void badOptions() {
        assertOneLineError(CliRunner.run("generate", "-p", "hi", "--top-p", "1.5"), "top");
        assertOneLineError(CliRunner.run("generate", "-p", "hi", "--beams", "0"), "--beams");
        assertOneLineError(CliRunner.run("chat", "--template", "nosuch"), "nosuch");
    }

    @Test
    void perplexityNeedsTwoChunks(@TempDir Path dir) throws IOException {
        Path tiny = dir.resolve("tiny.txt");
        Files.writeString(tiny, "Once upon a time there was a cat.");
        assertOneLineError(CliRunner.run("perplexity", "-f", tiny.toString(), "-c", "256"), "tiny.txt", "at least");
        Path empty = dir.resolve("empty.txt");
        Files.writeString(empty, "");
        assertOneLineError(CliRunner.run("perplexity", "-f", empty.toString()), "empty");
        assertOneLineError(CliRunner.run("perplexity", "-f", tiny.toString(), "-c", "4096"), "context length");
    }
}
