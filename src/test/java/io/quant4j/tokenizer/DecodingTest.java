package io.quant4j.tokenizer;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.nio.charset.StandardCharsets;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;

/** decode(encode(text)) == text on llama.cpp's vector texts, and the streaming decoder agrees with decode. */
class DecodingTest {

    @ParameterizedTest(name = "{0}")
    @CsvSource({"ggml-vocab-llama-spm.gguf", "ggml-vocab-llama-bpe.gguf", "ggml-vocab-qwen2.gguf"})
    void vectorTextsRoundTrip(String gguf) {
        VocabTestVectors vectors = VocabTestVectors.load(gguf);
        Tokenizer t = Tokenizers.fromGguf(vectors.gguf());
        for (String text : vectors.texts()) {
            assertThat(t.decode(t.encode(text, false, false))).as(VocabTestVectors.escape(text)).isEqualTo(text);
        }
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource({"ggml-vocab-llama-spm.gguf", "ggml-vocab-llama-bpe.gguf", "ggml-vocab-qwen2.gguf"})
    void streamingGivesTheSameTextAsDecode(String gguf) {
        VocabTestVectors vectors = VocabTestVectors.load(gguf);
        Tokenizer t = Tokenizers.fromGguf(vectors.gguf());
        for (String text : vectors.texts()) {
            int[] ids = t.encode(text, true, false);
            assertThat(stream(t, ids)).as(VocabTestVectors.escape(text)).isEqualTo(t.decode(ids));
        }
    }

    @Test
    void streamingHoldsBackACharacterSplitAcrossByteTokens() {
        Tokenizer t = Tokenizers.fromGguf(VocabTestVectors.load("ggml-vocab-llama-spm.gguf").gguf());
        int[] ids = t.encode("a🦙b", false, false); // 🦙 has no token: four byte tokens F0 9F A6 99
        StreamingDecoder d = t.streamingDecoder();
        StringBuilder seen = new StringBuilder();
        int byteTokens = 0;
        for (int id : ids) {
            String piece = d.accept(id);
            if (t.tokenType(id) == TokenType.BYTE) {
                byteTokens++;
                // nothing comes out until the fourth byte completes the character
                assertThat(piece).isEqualTo(byteTokens < 4 ? "" : "🦙");
            }
            seen.append(piece);
        }
        assertThat(byteTokens).isEqualTo(4);
        assertThat(seen.append(d.flush())).hasToString("a🦙b");
    }

    @Test
    void streamingFlushesAnUnfinishedCharacterAsReplacement() {
        Tokenizer t = Tokenizers.fromGguf(VocabTestVectors.load("ggml-vocab-llama-spm.gguf").gguf());
        StreamingDecoder d = t.streamingDecoder();
        assertThat(d.accept(0xF0 + 3)).isEmpty(); // <0xF0>: the lead byte of a 4-byte character
        assertThat(d.accept(0x9F + 3)).isEmpty();
        assertThat(d.flush()).isEqualTo("\uFFFD");
        assertThat(d.flush()).isEmpty();
    }

    @Test
    void streamingOfRandomByteTokensMatchesDecode() {
        Tokenizer t = Tokenizers.fromGguf(VocabTestVectors.load("ggml-vocab-llama-spm.gguf").gguf());
        Random random = new Random(42);
        for (int round = 0; round < 2000; round++) {
            int[] ids = new int[1 + random.nextInt(12)];
            for (int i = 0; i < ids.length; i++) {
                // mostly byte tokens (ids 3..258) so that broken and unfinished UTF-8 is common, some pieces
                ids[i] = random.nextInt(4) == 0 ? 259 + random.nextInt(31000) : 3 + random.nextInt(256);
            }
            assertThat(stream(t, ids)).as("ids %s", java.util.Arrays.toString(ids)).isEqualTo(t.decode(ids));
        }
    }

    @Test
    void completePrefixCutsOnlyBeforeAnUnfinishedCharacter() {
        assertThat(StreamingDecoder.completePrefix("ab".getBytes(StandardCharsets.UTF_8))).isEqualTo(2);
        assertThat(StreamingDecoder.completePrefix(new byte[]{'a', (byte) 0xE2, (byte) 0x82})).isEqualTo(1);
        assertThat(StreamingDecoder.completePrefix(new byte[]{'a', (byte) 0xE2, (byte) 0x82, (byte) 0xAC})).isEqualTo(4);
        assertThat(StreamingDecoder.completePrefix(new byte[]{(byte) 0x80, (byte) 0x80, (byte) 0x80, (byte) 0x80})).isEqualTo(4);
    }

    @Test
    void spmDropsTheAddedSpaceOfTheFirstTokenOnly() {
        Tokenizer t = Tokenizers.fromGguf(VocabTestVectors.load("ggml-vocab-llama-spm.gguf").gguf());
        int hello = t.tokenId("\u2581Hello").orElseThrow();
        assertThat(t.tokenBytes(hello)).isEqualTo(" Hello".getBytes(StandardCharsets.UTF_8));
        assertThat(t.decode(new int[]{hello, hello})).isEqualTo("Hello Hello");
        assertThat(t.decode(new int[]{t.bos(), hello})).isEqualTo(" Hello"); // as llama.cpp: BOS takes the strip
    }

    @Test
    void byteLevelTokensDecodeThroughTheGpt2Alphabet() {
        Tokenizer t = Tokenizers.fromGguf(VocabTestVectors.load("ggml-vocab-llama-bpe.gguf").gguf());
        int spaceHello = t.tokenId("\u0120Hello").orElseThrow(); // Ġ = space
        int newline = t.tokenId("\u010A").orElseThrow();           // Ċ = \n
        assertThat(t.decode(new int[]{spaceHello, newline})).isEqualTo(" Hello\n");
        assertThat(t.tokenBytes(t.bos())).isEmpty();
    }

    private static String stream(Tokenizer t, int[] ids) {
        StreamingDecoder d = t.streamingDecoder();
        StringBuilder out = new StringBuilder();
        for (int id : ids) {
            out.append(d.accept(id));
        }
        return out.append(d.flush()).toString();
    }
}
