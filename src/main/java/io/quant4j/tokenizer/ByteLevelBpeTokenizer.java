package io.quant4j.tokenizer;

import java.nio.charset.StandardCharsets;
import java.text.Normalizer;

/**
 * Byte-level BPE (GPT-2 style; Llama-3, Qwen2/3): the text is cut into words by a {@link PreTokenizer}, each word's
 * UTF-8 bytes are spelled in the {@link ByteLevelAlphabet}, and adjacent symbols merge in the order of the merge
 * list (llama.cpp's llm_tokenizer_bpe). With ignoreMerges a word that is itself a token is taken whole (Llama-3).
 */
final class ByteLevelBpeTokenizer extends AbstractTokenizer {
    private final PreTokenizer preTokenizer;
    private final MergeTable merges;
    private final boolean ignoreMerges;
    private final boolean nfc;
    private final int[] byteIds; // token id of each single byte's character

    ByteLevelBpeTokenizer(Vocabulary vocab, PreTokenizer preTokenizer, MergeTable merges, boolean ignoreMerges, boolean nfc) {
        super(vocab, id -> piece(vocab, id));
        this.preTokenizer = preTokenizer;
        this.merges = merges;
        this.ignoreMerges = ignoreMerges;
        this.nfc = nfc;
        this.byteIds = new int[256];
        for (int b = 0; b < 256; b++) {
            byteIds[b] = vocab.id(String.valueOf(ByteLevelAlphabet.charOf(b)));
        }
    }

    @Override
    void encodeRaw(String text, boolean afterSpecial, IntList out) {
        if (nfc) {
            text = Normalizer.normalize(text, Normalizer.Form.NFC);
        }
        SymbolMerger merger = new SymbolMerger(merges, null);
        for (String word : preTokenizer.split(text)) {
            encodeWord(merger, word.getBytes(StandardCharsets.UTF_8), out);
        }
    }

    private void encodeWord(SymbolMerger merger, byte[] bytes, IntList out) {
        String word = ByteLevelAlphabet.encode(bytes);
        if (ignoreMerges) {
            int whole = vocab.id(word);
            if (whole >= 0) {
                out.add(whole);
                return;
            }
        }
        merger.reset(word);
        for (int i = 0; i < bytes.length; i++) {
            merger.add(i, 1, byteIds[bytes[i] & 0xFF]);
        }
        merger.mergeAll();
        for (int s = merger.first(); s >= 0; s = merger.next(s)) {
            int id = merger.id(s);
            if (id >= 0) {
                out.add(id);
            } else {
                // a symbol that is no token: emit its characters that are (llama.cpp drops the rest)
                for (char c : merger.text(s).toCharArray()) {
                    int single = vocab.id(String.valueOf(c));
                    if (single >= 0) {
                        out.add(single);
                    }
                }
            }
        }
    }

    /** Byte-level pieces: normal tokens through the GPT-2 alphabet, user-defined ones as written, control tokens empty. */
    private static byte[] piece(Vocabulary vocab, int id) {
        String text = vocab.texts[id];
        return switch (vocab.types[id]) {
            case NORMAL -> ByteLevelAlphabet.decode(text);
            case USER_DEFINED -> text.getBytes(StandardCharsets.UTF_8);
            default -> new byte[0]; // control, unknown, unused: no text, as llama.cpp without special rendering
        };
    }

    @Override
    public String summary() {
        return "byte-level BPE (" + preTokenizer.name + " pre-tokenizer), " + vocab.size() + " tokens, "
                + merges.size() + " merges, " + specialSummary();
    }

    @Override
    public java.util.Map<String, io.quant4j.format.gguf.GgufValue> ggufMetadata() {
        java.util.Map<String, io.quant4j.format.gguf.GgufValue> m = baseGgufMetadata("gpt2");
        m.put("tokenizer.ggml.pre", io.quant4j.format.gguf.GgufValue.of(io.quant4j.format.gguf.GgufValueType.STRING, preTokenizer.name));
        m.put("tokenizer.ggml.merges", io.quant4j.format.gguf.GgufValue.array(io.quant4j.format.gguf.GgufValueType.STRING,
                merges.mergeTexts(this::tokenText).toArray(String[]::new)));
        return m;
    }
}
