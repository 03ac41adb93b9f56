package io.quant4j.tokenizer;

import io.quant4j.testing.Shared;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** stories260K's 512-piece vocabulary in its four spellings: GGUF, llama2.c tok512.bin, tokenizer.json, tokenizer.model. */
class Stories260kTokenizerTest {
    private static final List<String> TEXTS = List.of(
            "Once upon a time",
            "Once upon a time, there was a little girl named Lily.",
            "  two leading spaces and trailing  ",
            "Tom said: \"Let's go!\"\nThey went home.",
            "naïve café — déjà vu",
            "日本語のテキスト",
            "emoji 🦙🚀 and tabs\tand\r\nnewlines",
            "12345 + 678 = 13023",
            "");

    private static Map<String, Tokenizer> tokenizers;

    @BeforeAll
    static void load(@TempDir Path tmp) throws IOException {
        Path dir = Shared.file("models/stories260K");
        // tokenizer.model alone (no tokenizer.json) exercises the protobuf reader
        Path spOnly = Files.createDirectories(tmp.resolve("sp-only"));
        Files.copy(dir.resolve("hf/tokenizer.model"), spOnly.resolve("tokenizer.model"));
        Files.copy(dir.resolve("hf/tokenizer_config.json"), spOnly.resolve("tokenizer_config.json"));
        tokenizers = Map.of(
                "gguf", Tokenizers.fromGguf(dir.resolve("stories260K.gguf")),
                "tok512.bin", Tokenizers.fromLlama2c(dir.resolve("tok512.bin"), 512),
                "tokenizer.json", Tokenizers.fromHuggingFace(dir.resolve("hf")),
                "tokenizer.model", Tokenizers.fromHuggingFace(spOnly));
    }

    @Test
    void everySpellingGivesTheGoldenIdsForOnceUponATime() {
        tokenizers.forEach((name, t) ->
                assertThat(t.encode("Once upon a time", true, false)).as(name).containsExactly(1, 403, 407, 261, 378));
    }

    @Test
    void everySpellingAgreesWithTheGgufOnMoreTexts() {
        Tokenizer reference = tokenizers.get("gguf");
        for (String text : TEXTS) {
            int[] expected = reference.encode(text, true, false);
            tokenizers.forEach((name, t) -> assertThat(t.encode(text, true, false)).as(name + " on " + VocabTestVectors.escape(text)).containsExactly(expected));
        }
    }

    @Test
    void nonAsciiFallsBackToByteTokens() {
        Tokenizer t = tokenizers.get("gguf");
        assertThat(t.tokenId("日")).isEmpty();
        int[] ids = t.encode("日", false, false);
        // "▁" then the three UTF-8 bytes of 日 (E6 97 A5) as <0xE6><0x97><0xA5>: byte tokens are id = byte + 3
        assertThat(ids).containsExactly(t.tokenId("\u2581").orElseThrow(), 0xE6 + 3, 0x97 + 3, 0xA5 + 3);
        assertThat(t.tokenType(0xE6 + 3)).isEqualTo(TokenType.BYTE);
        assertThat(t.tokenBytes(0xE6 + 3)).containsExactly((byte) 0xE6);
    }

    @Test
    void decodingRoundTripsWithoutBos() {
        tokenizers.forEach((name, t) -> {
            for (String text : TEXTS) {
                assertThat(t.decode(t.encode(text, false, false))).as(name).isEqualTo(text);
            }
        });
    }

    @Test
    void decodingAfterBosKeepsTheSpacePrefixAsLlamaCppDoes() {
        Tokenizer t = tokenizers.get("tok512.bin");
        assertThat(t.decode(new int[]{1, 403, 407, 261, 378})).isEqualTo(" Once upon a time");
        assertThat(t.decode(new int[]{403, 407, 261, 378})).isEqualTo("Once upon a time");
    }

    @Test
    void specialIdsAndSummary() {
        tokenizers.forEach((name, t) -> {
            assertThat(t.vocabSize()).as(name).isEqualTo(512);
            assertThat(t.bos()).isEqualTo(1);
            assertThat(t.eos()).isEqualTo(2);
            assertThat(t.addsBos()).isTrue();
            assertThat(t.isEndOfGeneration(2)).isTrue();
            assertThat(t.isEndOfGeneration(1)).isFalse();
            assertThat(t.tokenText(1)).isEqualTo("<s>");
            assertThat(t.isSpecial(1)).isTrue();
            assertThat(t.isSpecial(403)).isFalse();
            assertThat(t.tokenBytes(1)).isEmpty();
            assertThat(t.summary()).contains("512 tokens").contains("bos 1").contains("eos 2").doesNotContain("\n");
        });
    }
}
