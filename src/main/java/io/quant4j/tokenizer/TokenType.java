package io.quant4j.tokenizer;

/** What kind of vocabulary entry a token is; the ids are GGUF's {@code tokenizer.ggml.token_type} values. */
public enum TokenType {
    UNDEFINED(0),
    /** An ordinary piece built by merges. */
    NORMAL(1),
    /** The unknown-token placeholder, e.g. {@code <unk>}. */
    UNKNOWN(2),
    /** A control token such as BOS/EOS or {@code <|im_start|>}: contributes no text when decoded. */
    CONTROL(3),
    /** An added token matched as a whole in the input even without special parsing, e.g. {@code <think>}. */
    USER_DEFINED(4),
    /** A reserved slot (padding of the embedding table). */
    UNUSED(5),
    /** A SentencePiece byte-fallback token {@code <0xXX>}. */
    BYTE(6);

    public final int id;

    TokenType(int id) {
        this.id = id;
    }

    /** The type for a GGUF id; unknown ids read as UNDEFINED, as llama.cpp does. */
    public static TokenType fromId(int id) {
        for (TokenType t : values()) {
            if (t.id == id) {
                return t;
            }
        }
        return UNDEFINED;
    }
}
