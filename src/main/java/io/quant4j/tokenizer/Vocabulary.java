package io.quant4j.tokenizer;

import io.quant4j.format.ModelFormatException;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Set;

/**
 * Token texts, scores and types with the text→id index and the special ids, after llama.cpp's conventions:
 * the last of duplicate texts wins the index, tokens named like end-of-turn markers become control tokens and
 * end generation, and special ids outside the vocabulary are dropped.
 */
final class Vocabulary {
    /** Texts llama.cpp treats as ending generation whatever the metadata says (llama-vocab.cpp, special_eog_ids). */
    private static final Set<String> END_OF_GENERATION_TEXTS = Set.of(
            "<|eot_id|>", "<|im_end|>", "<|end|>", "<end_of_turn>", "<|endoftext|>", "<|eom_id|>", "<EOT>",
            // fill-in-the-middle pad/repo/separator tokens also stop generation there
            "<|fim_pad|>", "<fim-pad>", "<PAD>", "<|fim_repo|>", "<|repo_name|>", "<fim-repo>", "<REPO>", "<|file_sep|>");

    final Path source;
    final String[] texts;
    final float[] scores;
    final TokenType[] types;
    final SpecialIds special;
    private final HashMap<String, Integer> ids;
    private final BitSet endOfGeneration = new BitSet();

    Vocabulary(Path source, String[] texts, float[] scores, TokenType[] types, SpecialIds special) {
        int n = texts.length;
        if (n == 0) {
            throw new ModelFormatException(source, "the vocabulary is empty");
        }
        if (scores.length != n || types.length != n) {
            throw new IllegalArgumentException("scores/types do not match the token count");
        }
        this.source = source;
        this.texts = texts;
        this.scores = scores;
        this.types = types;
        this.ids = HashMap.newHashMap(n);
        for (int i = 0; i < n; i++) {
            if (texts[i] == null || texts[i].isEmpty()) {
                texts[i] = "[EMPTY_" + i + "]"; // as llama.cpp, so an empty text can never match
            }
            ids.put(texts[i], i);
        }
        this.special = new SpecialIds(valid(special.bos()), valid(special.eos()), valid(special.eot()),
                valid(special.eom()), valid(special.unknown()), valid(special.padding()), special.addBos());
        for (int i = 0; i < n; i++) {
            if (END_OF_GENERATION_TEXTS.contains(texts[i]) && ids.get(texts[i]) == i) {
                endOfGeneration.set(i);
                types[i] = TokenType.CONTROL; // llama.cpp overrides the type of such tokens
            }
        }
        for (int id : new int[]{this.special.eos(), this.special.eot(), this.special.eom()}) {
            if (id >= 0) {
                endOfGeneration.set(id);
            }
        }
    }

    private int valid(int id) {
        return id >= 0 && id < texts.length ? id : SpecialIds.NONE;
    }

    int size() {
        return texts.length;
    }

    /** The id of a token text, or -1. */
    int id(String text) {
        Integer id = ids.get(text);
        return id == null ? -1 : id;
    }

    boolean isEndOfGeneration(int id) {
        return id >= 0 && endOfGeneration.get(id);
    }

    /**
     * Tokens that are cut out of the input before tokenizing (control, unknown and user-defined ones), longest text
     * first so that a longer special token wins over a shorter one it contains.
     */
    List<Integer> specialTokensLongestFirst() {
        List<Integer> list = new ArrayList<>();
        for (int i = 0; i < texts.length; i++) {
            TokenType t = types[i];
            if ((t == TokenType.CONTROL || t == TokenType.UNKNOWN || t == TokenType.USER_DEFINED) && ids.get(texts[i]) == i) {
                list.add(i);
            }
        }
        // by UTF-8 length, as llama.cpp compares byte strings
        list.sort(Comparator.comparingInt((Integer i) -> -utf8Length(texts[i])).thenComparingInt(i -> i));
        return list;
    }

    private static int utf8Length(String s) {
        return s.getBytes(java.nio.charset.StandardCharsets.UTF_8).length;
    }

    void checkId(int id) {
        if (id < 0 || id >= texts.length) {
            throw new IllegalArgumentException("token id " + id + " is outside the vocabulary of " + texts.length);
        }
    }
}
