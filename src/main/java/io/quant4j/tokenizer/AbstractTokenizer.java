package io.quant4j.tokenizer;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.OptionalInt;
import java.util.function.IntFunction;

/**
 * What both tokenizer kinds share: special-token splitting, BOS handling, the vocabulary queries and decoding.
 * Instances are immutable after construction, so they may be shared between threads.
 */
abstract class AbstractTokenizer implements Tokenizer {
    protected final Vocabulary vocab;
    private final SpecialTokenSplitter splitter;
    private final byte[][] pieces; // tokenBytes of every token

    /** @param pieceOf the bytes a token contributes to decoded text (computed once for all tokens here) */
    AbstractTokenizer(Vocabulary vocab, IntFunction<byte[]> pieceOf) {
        this.vocab = vocab;
        this.splitter = new SpecialTokenSplitter(vocab);
        this.pieces = new byte[vocab.size()][];
        for (int id = 0; id < pieces.length; id++) {
            pieces[id] = pieceOf.apply(id);
        }
    }

    @Override
    public int[] encode(String text, boolean addBos, boolean parseSpecial) {
        IntList out = new IntList(text.length() / 3 + 2);
        if (addBos && addsBos() && bos() >= 0) {
            out.add(bos());
        }
        boolean afterSpecial = true; // the start of the text counts as following a special token
        for (SpecialTokenSplitter.Fragment f : splitter.split(text, parseSpecial)) {
            if (f.isToken()) {
                out.add(f.token());
                afterSpecial = true;
            } else {
                encodeRaw(text.substring(f.start(), f.end()), afterSpecial, out);
                afterSpecial = false;
            }
        }
        return out.toArray();
    }

    /** Tokenizes text that contains no special tokens. */
    abstract void encodeRaw(String text, boolean afterSpecial, IntList out);

    @Override
    public byte[] tokenBytes(int id) {
        return piece(id).clone();
    }

    /** The cached bytes of a token; callers must not modify them. */
    final byte[] piece(int id) {
        vocab.checkId(id);
        return pieces[id];
    }

    @Override
    public byte[] firstTokenBytes(int id) {
        return tokenBytes(id);
    }

    @Override
    public String decode(int[] ids) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream(ids.length * 4);
        for (int i = 0; i < ids.length; i++) {
            bytes.writeBytes(i == 0 ? firstTokenBytes(ids[i]) : piece(ids[i]));
        }
        return bytes.toString(StandardCharsets.UTF_8);
    }

    @Override
    public int bos() {
        return vocab.special.bos();
    }

    @Override
    public int eos() {
        return vocab.special.eos();
    }

    @Override
    public boolean addsBos() {
        return vocab.special.addBos();
    }

    @Override
    public boolean isEndOfGeneration(int id) {
        return vocab.isEndOfGeneration(id);
    }

    @Override
    public int vocabSize() {
        return vocab.size();
    }

    @Override
    public String tokenText(int id) {
        vocab.checkId(id);
        return vocab.texts[id];
    }

    @Override
    public TokenType tokenType(int id) {
        vocab.checkId(id);
        return vocab.types[id];
    }

    @Override
    public boolean isSpecial(int id) {
        TokenType t = tokenType(id);
        return t == TokenType.CONTROL || t == TokenType.UNKNOWN || t == TokenType.USER_DEFINED;
    }

    @Override
    public OptionalInt tokenId(String text) {
        int id = vocab.id(text);
        return id < 0 ? OptionalInt.empty() : OptionalInt.of(id);
    }

    /** "bos 1 '<s>', eos 2 '</s>'" for summaries. */
    protected String specialSummary() {
        return "bos " + describe(bos()) + ", eos " + describe(eos()) + (addsBos() ? ", adds BOS" : ", no BOS added");
    }

    private String describe(int id) {
        return id < 0 ? "none" : id + " '" + vocab.texts[id] + "'";
    }

    /** The keys every vocabulary writes: tokens, types, special ids; subclasses add model, scores, merges. */
    protected java.util.Map<String, io.quant4j.format.gguf.GgufValue> baseGgufMetadata(String model) {
        java.util.Map<String, io.quant4j.format.gguf.GgufValue> m = new java.util.LinkedHashMap<>();
        m.put("tokenizer.ggml.model", io.quant4j.format.gguf.GgufValue.of(io.quant4j.format.gguf.GgufValueType.STRING, model));
        m.put("tokenizer.ggml.tokens", io.quant4j.format.gguf.GgufValue.array(io.quant4j.format.gguf.GgufValueType.STRING, vocab.texts.clone()));
        int[] types = new int[vocab.size()];
        for (int i = 0; i < types.length; i++) {
            types[i] = vocab.types[i].id;
        }
        m.put("tokenizer.ggml.token_type", io.quant4j.format.gguf.GgufValue.array(io.quant4j.format.gguf.GgufValueType.INT32, types));
        putId(m, "tokenizer.ggml.bos_token_id", vocab.special.bos());
        putId(m, "tokenizer.ggml.eos_token_id", vocab.special.eos());
        putId(m, "tokenizer.ggml.unknown_token_id", vocab.special.unknown());
        putId(m, "tokenizer.ggml.padding_token_id", vocab.special.padding());
        putId(m, "tokenizer.ggml.eot_token_id", vocab.special.eot());
        m.put("tokenizer.ggml.add_bos_token", io.quant4j.format.gguf.GgufValue.of(io.quant4j.format.gguf.GgufValueType.BOOL, vocab.special.addBos()));
        return m;
    }

    private static void putId(java.util.Map<String, io.quant4j.format.gguf.GgufValue> m, String key, int id) {
        if (id >= 0) {
            m.put(key, io.quant4j.format.gguf.GgufValue.of(io.quant4j.format.gguf.GgufValueType.UINT32, (long) id));
        }
    }
}
