package io.quant4j.tokenizer;

import io.quant4j.format.gguf.GgufFile;

import java.nio.file.Path;

/**
 * Builds tokenizers from the files models come with. Every problem with a file is reported as a
 * {@link io.quant4j.format.ModelFormatException} naming it.
 */
public final class Tokenizers {
    private Tokenizers() {
    }

    /**
     * From the {@code tokenizer.ggml.*} metadata of an open GGUF file: model {@code llama} (SentencePiece, merges by
     * score) or {@code gpt2} (byte-level BPE; pre-tokenizer from {@code tokenizer.ggml.pre}).
     */
    public static Tokenizer fromGguf(GgufFile gguf) {
        return GgufTokenizerLoader.load(gguf);
    }

    /** From a GGUF file on disk (opened and closed here; the tokenizer keeps no reference to the mapping). */
    public static Tokenizer fromGguf(Path file) {
        try (GgufFile gguf = GgufFile.open(file)) {
            return GgufTokenizerLoader.load(gguf);
        }
    }

    /**
     * From a llama2.c tokenizer file ({@code tokenizer.bin}, {@code tok512.bin}) holding vocabSize tokens (the
     * vocabulary size of the model's header).
     */
    public static Tokenizer fromLlama2c(Path tokBin, int vocabSize) {
        return Llama2cTokenizerLoader.load(tokBin, vocabSize);
    }

    /**
     * From a Hugging Face model or tokenizer folder: tokenizer.json (SentencePiece-style BPE with byte fallback, or
     * byte-level BPE with a Llama-3/Qwen2/GPT-2 pre-tokenizer), else tokenizer.model (SentencePiece BPE protobuf);
     * tokenizer_config.json supplies add_bos_token and the BOS/EOS tokens when present.
     */
    public static Tokenizer fromHuggingFace(Path dir) {
        return HuggingFaceTokenizerLoader.load(dir);
    }
}
