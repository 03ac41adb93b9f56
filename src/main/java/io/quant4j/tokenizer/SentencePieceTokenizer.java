package io.quant4j.tokenizer;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * SentencePiece-style BPE (llama.cpp's llm_tokenizer_spm, also llama2.c's tokenizer): spaces become {@code ▁}, a
 * space is prefixed to text at the start or after a special token, the text is cut into characters and adjacent
 * pairs are merged best first, and characters that end up as no token are spelled with {@code <0xXX>} byte tokens.
 * Merge order comes either from token scores (GGUF, llama2.c, tokenizer.model: the higher the merged token's score,
 * the earlier) or from a Hugging Face merge list.
 */
final class SentencePieceTokenizer extends AbstractTokenizer {
    static final char SPACE_MARK = '\u2581'; // ▁

    private final boolean addSpacePrefix;
    private final String mergeSource;
    private final int[] bmpCharIds;   // token id of each single BMP character, -1 if none
    private final int[] byteTokenIds; // <0xXX> token of each byte (or a fallback), -1 if none
    private final MergeTable joinableCharPairs; // (code point, code point) pairs that occur inside some token
    private final MergeTable merges;
    private final SymbolMerger.TextFallback fallback;

    private SentencePieceTokenizer(Vocabulary vocab, boolean addSpacePrefix, MergeTable merges,
                                   SymbolMerger.TextFallback fallback, String mergeSource) {
        super(vocab, id -> piece(vocab, id));
        this.addSpacePrefix = addSpacePrefix;
        this.mergeSource = mergeSource;
        this.bmpCharIds = new int[Character.MAX_VALUE + 1];
        Arrays.fill(bmpCharIds, -1);
        for (int i = 0; i < vocab.size(); i++) {
            String t = vocab.texts[i];
            if (t.length() == 1 && vocab.id(t) == i) {
                bmpCharIds[t.charAt(0)] = i;
            }
        }
        this.byteTokenIds = new int[256];
        for (int b = 0; b < 256; b++) {
            int id = vocab.id(String.format("<0x%02X>", b));
            if (id < 0 && b < 0x80) {
                id = vocab.id(String.valueOf((char) b)); // llama.cpp falls back to the byte as a one-char token
            }
            byteTokenIds[b] = id >= 0 ? id : vocab.special.unknown();
        }
        this.joinableCharPairs = new MergeTable(vocab.size() * 4);
        for (String t : vocab.texts) {
            for (int i = 0, prev = -1; i < t.length(); ) {
                int cp = t.codePointAt(i);
                if (prev >= 0) {
                    joinableCharPairs.putIfAbsent(prev, cp, 0, 0);
                }
                prev = cp;
                i += Character.charCount(cp);
            }
        }
        this.merges = merges;
        this.fallback = fallback;
    }

    /** Merges ranked by score: any adjacent pair whose concatenation is a token may merge (llama.cpp, llama2.c). */
    static SentencePieceTokenizer scoreRanked(Vocabulary vocab, boolean addSpacePrefix) {
        MergeTable merges = new MergeTable(vocab.size() * 4);
        for (int t = 0; t < vocab.size(); t++) {
            String text = vocab.texts[t];
            if (vocab.id(text) != t) {
                continue;
            }
            // every split of the token into two tokens is a pair that merges into it
            for (int cut = text.offsetByCodePoints(0, 1); cut < text.length(); cut = text.offsetByCodePoints(cut, 1)) {
                int left = vocab.id(text.substring(0, cut));
                int right = vocab.id(text.substring(cut));
                if (left >= 0 && right >= 0) {
                    merges.putIfAbsent(left, right, t, -vocab.scores[t]);
                }
            }
        }
        SymbolMerger.TextFallback byText = new SymbolMerger.TextFallback() {
            @Override
            public int tokenFor(String text) {
                return vocab.id(text);
            }

            @Override
            public float rank(int token) {
                return -vocab.scores[token];
            }
        };
        return new SentencePieceTokenizer(vocab, addSpacePrefix, merges, byText, "merges by score");
    }

    /** Merges ranked by a Hugging Face merge list (byte-fallback BPE in tokenizer.json). */
    static SentencePieceTokenizer mergeRanked(Vocabulary vocab, boolean addSpacePrefix, MergeTable merges) {
        return new SentencePieceTokenizer(vocab, addSpacePrefix, merges, null, merges.size() + " merges");
    }

    @Override
    void encodeRaw(String text, boolean afterSpecial, IntList out) {
        String escaped = ((addSpacePrefix && afterSpecial) ? " " + text : text).replace(' ', SPACE_MARK);
        // Two adjacent characters that occur together in no token can never end up in one token, so the text can be
        // merged piece by piece between such pairs with exactly the result of merging it whole; the pieces are
        // about word-sized, which keeps the merge heap small on long documents.
        SymbolMerger merger = new SymbolMerger(merges, fallback);
        int segment = 0;
        int prev = -1;
        for (int i = 0; i < escaped.length(); ) {
            int cp = escaped.codePointAt(i);
            if (prev >= 0 && joinableCharPairs.find(prev, cp) < 0) {
                encodeSegment(merger, escaped, segment, i, out);
                segment = i;
            }
            prev = cp;
            i += Character.charCount(cp);
        }
        encodeSegment(merger, escaped, segment, escaped.length(), out);
    }

    /** Merges escaped[from, to) as one symbol sequence. */
    private void encodeSegment(SymbolMerger merger, String escaped, int from, int to, IntList out) {
        if (from == to) {
            return;
        }
        merger.reset(escaped);
        for (int i = from; i < to; ) {
            int cp = escaped.codePointAt(i);
            int len = Character.charCount(cp);
            int id = len == 1 ? bmpCharIds[cp] : vocab.id(escaped.substring(i, i + len));
            merger.add(i, len, id);
            i += len;
        }
        merger.mergeAll();
        for (int s = merger.first(); s >= 0; s = merger.next(s)) {
            int id = merger.id(s);
            if (id >= 0) {
                out.add(id);
            } else {
                for (byte b : merger.text(s).getBytes(StandardCharsets.UTF_8)) {
                    int byteId = byteTokenIds[b & 0xFF];
                    if (byteId >= 0) {
                        out.add(byteId);
                    }
                }
            }
        }
    }

    /** SentencePiece pieces: ▁ is a space, byte tokens are their byte, control tokens are empty. */
    private static byte[] piece(Vocabulary vocab, int id) {
        String text = vocab.texts[id];
        return switch (vocab.types[id]) {
            case NORMAL -> text.replace(SPACE_MARK, ' ').getBytes(StandardCharsets.UTF_8);
            case BYTE -> byteValue(text);
            case USER_DEFINED -> text.getBytes(StandardCharsets.UTF_8);
            default -> new byte[0]; // control, unknown, unused: no text, as llama.cpp without special rendering
        };
    }

    private static byte[] byteValue(String text) {
        if (text.length() == 6 && text.startsWith("<0x") && text.endsWith(">")) {
            try {
                return new byte[]{(byte) Integer.parseInt(text.substring(3, 5), 16)};
            } catch (NumberFormatException e) {
                // not a byte token after all: fall through
            }
        }
        return text.getBytes(StandardCharsets.UTF_8);
    }

    @Override
    public byte[] firstTokenBytes(int id) {
        byte[] p = piece(id);
        if (addSpacePrefix && p.length > 0 && p[0] == ' ') {
            return Arrays.copyOfRange(p, 1, p.length);
        }
        return p.clone();
    }

    @Override
    public String summary() {
        return "SentencePiece BPE, " + vocab.size() + " tokens, " + mergeSource + ", " + specialSummary()
                + (addSpacePrefix ? ", space prefix" : "");
    }

    /**
     * Scores for GGUF, where llama.cpp merges the pair whose merged token scores highest. A tokenizer ranked by a
     * tokenizer.json merge list has no meaningful scores (they are all equal), so each merged token is given
     * −(rank of its best merge) and tokens no merge produces the lowest score: the same merge order.
     */
    private float[] exportScores() {
        if (fallback != null) {
            return vocab.scores.clone();
        }
        float[] out = new float[vocab.size()];
        java.util.Arrays.fill(out, -1e9f);
        merges.forEach((result, rank) -> out[result] = Math.max(out[result], -1 - rank));
        return out;
    }

    @Override
    public java.util.Map<String, io.quant4j.format.gguf.GgufValue> ggufMetadata() {
        java.util.Map<String, io.quant4j.format.gguf.GgufValue> m = baseGgufMetadata("llama");
        m.put("tokenizer.ggml.scores", io.quant4j.format.gguf.GgufValue.array(io.quant4j.format.gguf.GgufValueType.FLOAT32, exportScores()));
        m.put("tokenizer.ggml.add_space_prefix", io.quant4j.format.gguf.GgufValue.of(io.quant4j.format.gguf.GgufValueType.BOOL, addSpacePrefix));
        return m;
    }
}
