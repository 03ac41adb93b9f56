package io.quant4j.tokenizer;

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

import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Broken tokenizer files fail with a one-line ModelFormatException that names the file, never an OOM or an index error. */
class BadTokenizerFilesTest {
    @TempDir
    Path tmp;

    private Path tok512() {
        return Shared.file("models/stories260K/tok512.bin");
    }

    @Test
    void truncatedLlama2cFile() throws IOException {
        byte[] all = Files.readAllBytes(tok512());
        Path cut = tmp.resolve("cut.bin");
        Files.write(cut, Arrays.copyOf(all, all.length - 100));

        assertThatThrownBy(() -> Tokenizers.fromLlama2c(cut, 512))
                .isInstanceOf(ModelFormatException.class)
                .hasMessageContaining(cut.toString())
                .hasMessageContaining("token #")
                .hasMessageNotContaining("\n");
    }

    @Test
    void llama2cFileTooShortForTheVocabularySize() {
        assertThatThrownBy(() -> Tokenizers.fromLlama2c(tok512(), 32000))
                .isInstanceOf(ModelFormatException.class)
                .hasMessageContaining(tok512().toString())
                .hasMessageContaining("32000");
    }

    @Test
    void llama2cTokenWithAnAbsurdLength() throws IOException {
        byte[] all = Files.readAllBytes(tok512());
        // token #0: score at 4, length at 8; claim two billion bytes
        ByteBuffer.wrap(all).order(ByteOrder.LITTLE_ENDIAN).putInt(8, 2_000_000_000);
        Path lying = tmp.resolve("lying.bin");
        Files.write(lying, all);

        assertThatThrownBy(() -> Tokenizers.fromLlama2c(lying, 512))
                .isInstanceOf(ModelFormatException.class)
                .hasMessageContaining(lying.toString())
                .hasMessageContaining("2000000000");
    }

    @Test
    void missingLlama2cFile() {
        Path none = tmp.resolve("none.bin");
        assertThatThrownBy(() -> Tokenizers.fromLlama2c(none, 512))
                .isInstanceOf(ModelFormatException.class)
                .hasMessageContaining(none.toString());
    }

    @Test
    void malformedTokenizerJson() throws IOException {
        Path dir = Files.createDirectories(tmp.resolve("hf"));
        Files.writeString(dir.resolve("tokenizer.json"), "{\"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": 0,}");

        assertThatThrownBy(() -> Tokenizers.fromHuggingFace(dir))
                .isInstanceOf(ModelFormatException.class)
                .hasMessageContaining(dir.resolve("tokenizer.json").toString())
                .hasMessageContaining("malformed JSON")
                .hasMessageNotContaining("\n");
    }

    @Test
    void tokenizerJsonWithoutModel() throws IOException {
        Path dir = Files.createDirectories(tmp.resolve("hf"));
        Files.writeString(dir.resolve("tokenizer.json"), "{\"version\": \"1.0\"}");

        assertThatThrownBy(() -> Tokenizers.fromHuggingFace(dir))
                .isInstanceOf(ModelFormatException.class)
                .hasMessageContaining("tokenizer.json")
                .hasMessageContaining("'model'");
    }

    @Test
    void tokenizerJsonWithAnAbsurdId() throws IOException {
        Path dir = Files.createDirectories(tmp.resolve("hf"));
        Files.writeString(dir.resolve("tokenizer.json"), """
                {"model": {"type": "BPE", "byte_fallback": true, "vocab": {"a": 0, "b": 2000000000}, "merges": []}}""");

        assertThatThrownBy(() -> Tokenizers.fromHuggingFace(dir))
                .isInstanceOf(ModelFormatException.class)
                .hasMessageContaining("tokenizer.json")
                .hasMessageContaining("2000000000");
    }

    @Test
    void tokenizerJsonWithAMalformedMerge() throws IOException {
        Path dir = Files.createDirectories(tmp.resolve("hf"));
        Files.writeString(dir.resolve("tokenizer.json"), """
                {"model": {"type": "BPE", "byte_fallback": true, "vocab": {"a": 0, "b": 1, "ab": 2}, "merges": ["ab"]},
                 "normalizer": {"type": "Sequence", "normalizers": [{"type": "Prepend", "prepend": "\u2581"}]}}""");

        assertThatThrownBy(() -> Tokenizers.fromHuggingFace(dir))
                .isInstanceOf(ModelFormatException.class)
                .hasMessageContaining("merge #0");
    }

    @Test
    void folderWithoutTokenizerFiles() throws IOException {
        Path dir = Files.createDirectories(tmp.resolve("empty"));
        assertThatThrownBy(() -> Tokenizers.fromHuggingFace(dir))
                .isInstanceOf(ModelFormatException.class)
                .hasMessageContaining(dir.toString());
    }

    @Test
    void truncatedSentencePieceModel() throws IOException {
        byte[] all = Files.readAllBytes(Shared.file("models/stories260K/hf/tokenizer.model"));
        Path dir = Files.createDirectories(tmp.resolve("sp"));
        Files.write(dir.resolve("tokenizer.model"), Arrays.copyOf(all, all.length / 2 + 3));

        assertThatThrownBy(() -> Tokenizers.fromHuggingFace(dir))
                .isInstanceOf(ModelFormatException.class)
                .hasMessageContaining(dir.resolve("tokenizer.model").toString())
                .hasMessageContaining("protobuf");
    }

    @Test
    void ggufWithMismatchedScoresAndTokens() throws IOException {
        Path gguf = tmp.resolve("mismatch.gguf");
        new TinyGgufWriter()
                .put("tokenizer.ggml.model", "llama")
                .put("tokenizer.ggml.tokens", new String[]{"<unk>", "<s>", "</s>", "a"})
                .put("tokenizer.ggml.scores", new float[]{0, 0, 0})
                .write(gguf);

        assertThatThrownBy(() -> Tokenizers.fromGguf(gguf))
                .isInstanceOf(ModelFormatException.class)
                .hasMessageContaining(gguf.toString())
                .hasMessageContaining("tokenizer.ggml.scores has 3 entries but tokenizer.ggml.tokens has 4");
    }

    @Test
    void ggufWithMismatchedTokenTypes() throws IOException {
        Path gguf = tmp.resolve("types.gguf");
        new TinyGgufWriter()
                .put("tokenizer.ggml.model", "llama")
                .put("tokenizer.ggml.tokens", new String[]{"<unk>", "<s>", "</s>", "a"})
                .put("tokenizer.ggml.token_type", new int[]{2, 3, 3, 1, 1})
                .write(gguf);

        assertThatThrownBy(() -> Tokenizers.fromGguf(gguf))
                .isInstanceOf(ModelFormatException.class)
                .hasMessageContaining("tokenizer.ggml.token_type has 5 entries");
    }

    @Test
    void ggufWithoutTokens() throws IOException {
        Path gguf = tmp.resolve("no-tokens.gguf");
        new TinyGgufWriter().put("tokenizer.ggml.model", "llama").write(gguf);

        assertThatThrownBy(() -> Tokenizers.fromGguf(gguf))
                .isInstanceOf(ModelFormatException.class)
                .hasMessageContaining(gguf.toString())
                .hasMessageContaining("tokenizer.ggml.tokens");
    }

    @Test
    void ggufWithAnUnsupportedTokenizerModel() throws IOException {
        Path gguf = tmp.resolve("bert.gguf");
        new TinyGgufWriter()
                .put("tokenizer.ggml.model", "bert")
                .put("tokenizer.ggml.tokens", new String[]{"[PAD]", "a"})
                .write(gguf);

        assertThatThrownBy(() -> Tokenizers.fromGguf(gguf))
                .isInstanceOf(ModelFormatException.class)
                .hasMessageContaining("'bert'");
    }

    @Test
    void ggufBpeWithAMalformedMerge() throws IOException {
        Path gguf = tmp.resolve("merge.gguf");
        new TinyGgufWriter()
                .put("tokenizer.ggml.model", "gpt2")
                .put("tokenizer.ggml.pre", "qwen2")
                .put("tokenizer.ggml.tokens", new String[]{"a", "b", "ab"})
                .put("tokenizer.ggml.merges", new String[]{"a b", "ab"})
                .write(gguf);

        assertThatThrownBy(() -> Tokenizers.fromGguf(gguf))
                .isInstanceOf(ModelFormatException.class)
                .hasMessageContaining("merge #1");
    }

    @Test
    void ggufWithAnUnknownPreTokenizer() throws IOException {
        Path gguf = tmp.resolve("pre.gguf");
        new TinyGgufWriter()
                .put("tokenizer.ggml.model", "gpt2")
                .put("tokenizer.ggml.pre", "no-such-pre")
                .put("tokenizer.ggml.tokens", new String[]{"a", "b", "ab"})
                .put("tokenizer.ggml.merges", new String[]{"a b"})
                .write(gguf);

        assertThatThrownBy(() -> Tokenizers.fromGguf(gguf))
                .isInstanceOf(ModelFormatException.class)
                .hasMessageContaining("no-such-pre");
    }
}
