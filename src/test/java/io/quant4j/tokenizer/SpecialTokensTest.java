package io.quant4j.tokenizer;

import io.quant4j.testing.Shared;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/** parse_special, user-defined tokens, BOS handling and end-of-generation tokens, as llama.cpp. */
class SpecialTokensTest {
    private static Tokenizer gguf(String name) {
        return Tokenizers.fromGguf(Shared.file("tokenizers/" + name));
    }

    @Test
    void spmParsesControlTextsOnlyWhenAsked() {
        Tokenizer t = gguf("ggml-vocab-llama-spm.gguf");
        int[] parsed = t.encode("<s>Hello</s>", false, true);
        assertThat(parsed[0]).isEqualTo(1);
        assertThat(parsed[parsed.length - 1]).isEqualTo(2);
        // after a special token the space prefix is added again
        assertThat(parsed[1]).isEqualTo(t.tokenId("\u2581Hello").orElseThrow());

        int[] plain = t.encode("<s>Hello</s>", false, false);
        assertThat(plain).doesNotContain(1, 2);
        assertThat(t.decode(plain)).isEqualTo("<s>Hello</s>");
    }

    @Test
    void bosIsAddedWhenTheVocabularySaysSo() {
        assertThat(gguf("ggml-vocab-llama-spm.gguf").encode("Hi", true, false)[0]).isEqualTo(1);
        Tokenizer llama3 = gguf("ggml-vocab-llama-bpe.gguf");
        assertThat(llama3.addsBos()).isTrue();
        assertThat(llama3.encode("Hi", true, false)[0]).isEqualTo(128000);
        Tokenizer qwen = gguf("ggml-vocab-qwen2.gguf"); // tokenizer.ggml.add_bos_token = false
        assertThat(qwen.addsBos()).isFalse();
        assertThat(qwen.encode("Hi", true, false)).isEqualTo(qwen.encode("Hi", false, false));
        assertThat(gguf("ggml-vocab-llama-spm.gguf").encode("", true, false)).containsExactly(1);
    }

    @Test
    void qwenChatMarkupWithParseSpecial() {
        for (Tokenizer t : new Tokenizer[]{gguf("ggml-vocab-qwen2.gguf"), Tokenizers.fromHuggingFace(Shared.file("tokenizers/qwen3-hf"))}) {
            int imStart = t.tokenId("<|im_start|>").orElseThrow();
            int imEnd = t.tokenId("<|im_end|>").orElseThrow();
            int[] ids = t.encode("<|im_start|>user\nHi<|im_end|>", false, true);
            assertThat(ids[0]).isEqualTo(imStart);
            assertThat(ids[ids.length - 1]).isEqualTo(imEnd);
            assertThat(t.encode("<|im_start|>", false, false)).doesNotContain(imStart);
            assertThat(t.isSpecial(imStart)).isTrue();
            assertThat(t.isEndOfGeneration(imEnd)).isTrue();
            assertThat(t.isEndOfGeneration(t.tokenId("<|endoftext|>").orElseThrow())).isTrue();
            assertThat(t.isEndOfGeneration(imStart)).isFalse();
            // control tokens contribute no text
            assertThat(t.decode(ids)).isEqualTo("user\nHi");
        }
    }

    @Test
    void userDefinedTokensAreMatchedEvenWithoutParseSpecial() {
        for (Tokenizer t : new Tokenizer[]{gguf("ggml-vocab-qwen2.gguf"), Tokenizers.fromHuggingFace(Shared.file("tokenizers/qwen3-hf"))}) {
            int think = t.tokenId("<think>").orElseThrow();
            assertThat(t.tokenType(think)).isEqualTo(TokenType.USER_DEFINED);
            int[] ids = t.encode("a<think>b", false, false);
            assertThat(ids).contains(think);
            assertThat(t.decode(ids)).isEqualTo("a<think>b"); // user-defined tokens keep their text
        }
    }

    @Test
    void llama3EndOfGeneration() {
        for (Tokenizer t : new Tokenizer[]{gguf("ggml-vocab-llama-bpe.gguf"), Tokenizers.fromHuggingFace(Shared.file("tokenizers/llama3-hf"))}) {
            assertThat(t.bos()).isEqualTo(128000);
            assertThat(t.eos()).isEqualTo(128001);
            assertThat(t.isEndOfGeneration(128001)).isTrue();
            assertThat(t.isEndOfGeneration(t.tokenId("<|eot_id|>").orElseThrow())).isTrue();
            assertThat(t.isEndOfGeneration(128000)).isFalse();
            assertThat(t.encode("<|start_header_id|>user<|end_header_id|>", false, true))
                    .startsWith(t.tokenId("<|start_header_id|>").orElseThrow())
                    .endsWith(t.tokenId("<|end_header_id|>").orElseThrow());
            assertThat(t.summary()).startsWith("byte-level BPE (llama-bpe pre-tokenizer), 128256 tokens");
        }
    }

    @Test
    void ids() {
        Tokenizer t = gguf("ggml-vocab-llama-spm.gguf");
        assertThat(t.vocabSize()).isEqualTo(32000);
        assertThat(t.tokenId("\u2581the")).hasValue(278);
        assertThat(t.tokenId("no such token at all")).isEmpty();
        assertThat(t.tokenText(13)).isEqualTo("<0x0A>");
        assertThat(t.summary()).isEqualTo("SentencePiece BPE, 32000 tokens, merges by score, bos 1 '<s>', eos 2 '</s>', adds BOS, space prefix");
    }
}
