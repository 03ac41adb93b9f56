package io.quant4j.tokenizer;

import io.quant4j.testing.Shared;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.Arrays;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Encoding whole documents stays fast (heap-driven merges, not rescans): the perplexity tool tokenizes all of
 * wiki.test.raw (1.3 MB) at once. Limits are loose so a busy machine does not fail them; a quadratic merge would
 * take minutes.
 */
class LargeTextTest {
    private static final long LIMIT_MS = 5_000;

    @Test
    void tinyStoriesWithTheStoriesVocabulary() throws IOException {
        String text = Files.readString(Shared.file("data/TinyStories-sample-30KB.txt"), StandardCharsets.UTF_8);
        Tokenizer t = Tokenizers.fromLlama2c(Shared.file("models/stories260K/tok512.bin"), 512);
        encodeTimedAndCheckRoundTrip(t, text);
    }

    @Test
    void tinyStoriesWithTheLlama2Vocabulary() throws IOException {
        String text = Files.readString(Shared.file("data/TinyStories-sample-30KB.txt"), StandardCharsets.UTF_8);
        Tokenizer t = Tokenizers.fromGguf(Shared.file("models/tiny-random/llama-2-tiny-random.gguf"));
        encodeTimedAndCheckRoundTrip(t, text);
    }

    @Test
    void wholeWikiTextWithTheLlama2Vocabulary() throws IOException {
        String text = Files.readString(Shared.file("data/wiki.test.raw"), StandardCharsets.UTF_8);
        assertThat(text.length()).isGreaterThan(1_000_000);
        Tokenizer t = Tokenizers.fromGguf(Shared.file("tokenizers/ggml-vocab-llama-spm.gguf"));
        int[] ids = encodeTimedAndCheckRoundTrip(t, text);
        assertThat(ids.length).isBetween(250_000, 400_000);
    }

    @Test
    void wikiTextChunkWithLlama3AndQwenVocabularies() throws IOException {
        String text = Files.readString(Shared.file("data/wiki.test.raw"), StandardCharsets.UTF_8).substring(0, 1_000_000);
        encodeTimedAndCheckRoundTrip(Tokenizers.fromGguf(Shared.file("tokenizers/ggml-vocab-llama-bpe.gguf")), text);
        encodeTimedAndCheckRoundTrip(Tokenizers.fromGguf(Shared.file("tokenizers/ggml-vocab-qwen2.gguf")), text);
    }

    @Test
    void tinyRandomModelVocabularyIsLlama2s() {
        Tokenizer tiny = Tokenizers.fromGguf(Shared.file("models/tiny-random/llama-2-tiny-random.gguf"));
        Tokenizer spm = Tokenizers.fromGguf(Shared.file("tokenizers/ggml-vocab-llama-spm.gguf"));
        assertThat(tiny.vocabSize()).isEqualTo(32000);
        for (String text : VocabTestVectors.load("ggml-vocab-llama-spm.gguf").texts()) {
            assertThat(tiny.encode(text, true, false)).isEqualTo(spm.encode(text, true, false));
        }
        assertThat(tiny.encode("Hello world", true, false)).containsExactly(1, 15043, 3186);
    }

    private static int[] encodeTimedAndCheckRoundTrip(Tokenizer t, String text) {
        t.encode(text.substring(0, Math.min(text.length(), 20_000)), false, false); // warm up
        long start = System.nanoTime();
        int[] ids = t.encode(text, true, false);
        long ms = (System.nanoTime() - start) / 1_000_000;
        System.out.printf("%s: %d chars -> %d tokens in %d ms%n", t.summary(), text.length(), ids.length, ms);
        assertThat(ms).as("encoding %d chars", text.length()).isLessThan(LIMIT_MS);
        int[] withoutBos = ids[0] == t.bos() && t.addsBos() ? Arrays.copyOfRange(ids, 1, ids.length) : ids;
        assertThat(t.decode(withoutBos)).isEqualTo(text);
        return ids;
    }
}
