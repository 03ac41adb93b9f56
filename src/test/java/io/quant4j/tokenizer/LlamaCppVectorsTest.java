package io.quant4j.tokenizer;

import io.quant4j.testing.Shared;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.net.URISyntaxException;
import java.nio.file.Path;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** Every one of llama.cpp's tokenizer test vectors, from the GGUF vocabulary and from the same family's tokenizer.json. */
class LlamaCppVectorsTest {

    @ParameterizedTest(name = "{0}")
    @CsvSource({"ggml-vocab-llama-spm.gguf", "ggml-vocab-llama-bpe.gguf", "ggml-vocab-qwen2.gguf"})
    void ggufVocabularyMatchesEveryVector(String gguf) {
        VocabTestVectors vectors = VocabTestVectors.load(gguf);
        Tokenizer tokenizer = Tokenizers.fromGguf(vectors.gguf());

        List<String> wrong = vectors.mismatches(tokenizer);

        assertThat(vectors.texts()).hasSize(46);
        assertThat(wrong).as(tokenizer.summary()).isEmpty();
    }

    @ParameterizedTest(name = "{1} vs {0}")
    @CsvSource({
            "ggml-vocab-llama-bpe.gguf, tokenizers/llama3-hf",
            "ggml-vocab-qwen2.gguf, tokenizers/qwen3-hf"})
    void huggingFaceTokenizerMatchesEveryVector(String gguf, String hfDir) {
        VocabTestVectors vectors = VocabTestVectors.load(gguf);
        Tokenizer tokenizer = Tokenizers.fromHuggingFace(Shared.file(hfDir));

        List<String> wrong = vectors.mismatches(tokenizer);

        assertThat(wrong).as(tokenizer.summary()).isEmpty();
    }

    /**
     * shared/tokenizers/llama2-hf holds a different 32000-piece SentencePiece vocabulary than llama.cpp's Llama-2
     * one (its "▁" is 28705, not 29871: Mistral's numbering), so its ids cannot equal llama-spm.gguf.out. The
     * expected ids here were produced from that tokenizer.json by Hugging Face tokenizers 0.23.2
     * ({@code encode(text, add_special_tokens=False)}) for the same 46 texts.
     */
    @Test
    void llama2HuggingFaceTokenizerMatchesHuggingFaceOnTheSpmTexts() throws URISyntaxException {
        Path expected = Path.of(getClass().getResource("llama2-hf-spm-vectors.out").toURI());
        VocabTestVectors vectors = VocabTestVectors.load(Shared.file("tokenizers/ggml-vocab-llama-spm.gguf"), expected);
        Tokenizer tokenizer = Tokenizers.fromHuggingFace(Shared.file("tokenizers/llama2-hf"));

        List<String> wrong = vectors.mismatches(tokenizer);

        assertThat(wrong).as(tokenizer.summary()).isEmpty();
    }
}
