package io.quant4j.tokenizer;

import java.util.OptionalInt;

/**
 * Text ↔ token ids for a Llama-family vocabulary, behaving as llama.cpp's tokenizer does. Implementations are
 * immutable and may be shared between threads. Build one with {@link Tokenizers}.
 */
public interface Tokenizer {
    /**
     * Token ids for a text.
     *
     * @param addBos       prepend BOS when the vocabulary asks for it ({@link #addsBos()})
     * @param parseSpecial map the texts of control tokens in the input (such as {@code <s>} or
     *                     {@code <|im_start|>}) to their ids; when false they are tokenized as plain text
     *                     (user-defined tokens such as {@code <think>} are matched either way, as in llama.cpp)
     */
    int[] encode(String text, boolean addBos, boolean parseSpecial);

    /** The raw bytes the token contributes to decoded text (empty for control tokens). */
    byte[] tokenBytes(int id);

    /**
     * The bytes the token contributes when it is the first of a decoded sequence: for SentencePiece vocabularies
     * that add a space prefix, one leading space is dropped (llama.cpp's detokenize does so for the first token
     * only — so after a leading BOS the space stays, as in llama.cpp); otherwise {@link #tokenBytes}.
     */
    byte[] firstTokenBytes(int id);

    /** The text of a token sequence: {@link #firstTokenBytes} of the first, {@link #tokenBytes} of the rest, as UTF-8. */
    String decode(int[] ids);

    /** A decoder that takes ids one at a time, for streaming generation. */
    default StreamingDecoder streamingDecoder() {
        return new StreamingDecoder(this);
    }

    /** The BOS id, or -1 if the vocabulary has none. */
    int bos();

    /** The EOS id, or -1 if the vocabulary has none. */
    int eos();

    /** Whether {@code encode(text, true, ...)} prepends BOS. */
    boolean addsBos();

    /** Whether generation should stop at this token: eos, eot, eom and end-of-turn markers like {@code <|im_end|>}. */
    boolean isEndOfGeneration(int id);

    int vocabSize();

    /** The token's text as stored in the vocabulary (e.g. {@code ▁the}, {@code <0x0A>}, {@code Ġthe}). */
    String tokenText(int id);

    TokenType tokenType(int id);

    /** Control, unknown and user-defined tokens: the ones matched as a whole rather than built by merges. */
    boolean isSpecial(int id);

    /** The id of a token with exactly this vocabulary text. */
    OptionalInt tokenId(String text);

    /** One line: kind, vocabulary size, BOS/EOS ids. */
    String summary();

    /** The vocabulary as llama.cpp's tokenizer.ggml.* GGUF keys, so a converted model carries its tokenizer. */
    java.util.Map<String, io.quant4j.format.gguf.GgufValue> ggufMetadata();

}
