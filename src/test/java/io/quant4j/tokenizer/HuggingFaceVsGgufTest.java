package io.quant4j.tokenizer;

import io.quant4j.testing.Shared;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.IntStream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The vocabulary GGUFs were converted from these tokenizer.json files by llama.cpp, so reading the JSON must give
 * the same token texts and types (llama.cpp's converter rules), the same special ids, and the same encodings.
 */
class HuggingFaceVsGgufTest {

    @ParameterizedTest(name = "{1} vs {0}")
    @CsvSource({
            "ggml-vocab-llama-bpe.gguf, tokenizers/llama3-hf",
            "ggml-vocab-qwen2.gguf, tokenizers/qwen3-hf"})
    void sameTextsAndTypes(String gguf, String hfDir) {
        Tokenizer fromGguf = Tokenizers.fromGguf(Shared.file("tokenizers/" + gguf));
        Tokenizer fromJson = Tokenizers.fromHuggingFace(Shared.file(hfDir));
        // the GGUF pads the table to the model's embedding rows; tokenizer.json stops at the last named token
        int n = Math.min(fromGguf.vocabSize(), fromJson.vocabSize());
        List<String> different = new ArrayList<>();
        for (int id = 0; id < n; id++) {
            if (!fromGguf.tokenText(id).equals(fromJson.tokenText(id)) || fromGguf.tokenType(id) != fromJson.tokenType(id)) {
                different.add(id + ": " + fromGguf.tokenText(id) + "/" + fromGguf.tokenType(id) + " vs " + fromJson.tokenText(id) + "/" + fromJson.tokenType(id));
            }
        }
        assertThat(different).isEmpty();
        assertThat(fromJson.eos()).isEqualTo(fromGguf.eos());
        assertThat(fromJson.addsBos()).isEqualTo(fromGguf.addsBos());
        for (int id = 0; id < n; id++) {
            assertThat(fromJson.isEndOfGeneration(id)).as("end of generation %d", id).isEqualTo(fromGguf.isEndOfGeneration(id));
        }
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource({"ggml-vocab-llama-spm.gguf", "ggml-vocab-llama-bpe.gguf", "ggml-vocab-qwen2.gguf"})
    void oneTokenizerServesManyThreads(String gguf) {
        VocabTestVectors vectors = VocabTestVectors.load(gguf);
        Tokenizer t = Tokenizers.fromGguf(vectors.gguf());
        ConcurrentHashMap<Integer, String> failures = new ConcurrentHashMap<>();
        IntStream.range(0, 400).parallel().forEach(i -> {
            int k = i % vectors.texts().size();
            if (!java.util.Arrays.equals(t.encode(vectors.texts().get(k), false, false), vectors.ids().get(k))) {
                failures.put(k, vectors.texts().get(k));
            }
        });
        assertThat(failures).isEmpty();
    }
}
