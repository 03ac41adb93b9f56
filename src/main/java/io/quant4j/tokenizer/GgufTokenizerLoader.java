package io.quant4j.tokenizer;

import io.quant4j.format.ModelFormatException;
import io.quant4j.format.gguf.GgufFile;
import io.quant4j.format.gguf.GgufMetadata;
import io.quant4j.format.gguf.GgufValue;

import java.nio.file.Path;
import java.util.Optional;

/** Builds a tokenizer from the {@code tokenizer.ggml.*} keys of a GGUF file, with llama.cpp's defaults. */
final class GgufTokenizerLoader {
    private static final String P = "tokenizer.ggml.";

    private GgufTokenizerLoader() {
    }

    static Tokenizer load(GgufFile gguf) {
        Path file = gguf.path();
        GgufMetadata md = gguf.metadata();
        String model = md.getString(P + "model");
        String[] tokens = md.getStringArray(P + "tokens").clone();
        int n = tokens.length;
        float[] scores = md.contains(P + "scores") ? md.getFloatArray(P + "scores").clone() : new float[n];
        requireLength(file, P + "scores", scores.length, n);
        TokenType[] types = readTypes(file, md, n);
        return switch (model) {
            case "llama" -> {
                // llama.cpp's SentencePiece defaults: <unk>=0, <s>=1, </s>=2, BOS added, space prefix
                SpecialIds ids = specialIds(md, 1, 2, 0, md.findBoolean(P + "add_bos_token").orElse(true));
                boolean spacePrefix = md.findBoolean(P + "add_space_prefix").orElse(true);
                yield SentencePieceTokenizer.scoreRanked(new Vocabulary(file, tokens, scores, types, ids), spacePrefix);
            }
            case "gpt2" -> {
                String pre = md.findString(P + "pre").orElse("default");
                PreTokenizer preTokenizer = preTokenizer(file, pre);
                boolean llama3 = preTokenizer == PreTokenizer.LLAMA3;
                SpecialIds ids = specialIds(md, -1, -1, -1, md.findBoolean(P + "add_bos_token").orElse(llama3));
                Vocabulary vocab = new Vocabulary(file, tokens, scores, types, ids);
                MergeTable merges = readMerges(file, md.getStringArray(P + "merges"), vocab);
                yield new ByteLevelBpeTokenizer(vocab, preTokenizer, merges, llama3, false);
            }
            default -> throw new ModelFormatException(file, "unsupported tokenizer model '" + model
                    + "' (quant4j reads 'llama' SentencePiece and 'gpt2' byte-level BPE vocabularies)");
        };
    }

    private static void requireLength(Path file, String key, int length, int tokens) {
        if (length != tokens) {
            throw new ModelFormatException(file, key + " has " + length + " entries but tokenizer.ggml.tokens has " + tokens);
        }
    }

    private static TokenType[] readTypes(Path file, GgufMetadata md, int n) {
        TokenType[] types = new TokenType[n];
        java.util.Arrays.fill(types, TokenType.NORMAL);
        Optional<GgufValue> value = md.get(P + "token_type");
        if (value.isEmpty()) {
            return types;
        }
        Object raw = value.get().value();
        int length;
        if (raw instanceof int[] a) {
            length = a.length;
            requireLength(file, P + "token_type", length, n);
            for (int i = 0; i < n; i++) {
                types[i] = TokenType.fromId(a[i]);
            }
        } else if (raw instanceof long[] a) {
            length = a.length;
            requireLength(file, P + "token_type", length, n);
            for (int i = 0; i < n; i++) {
                types[i] = TokenType.fromId((int) Math.max(Integer.MIN_VALUE, Math.min(Integer.MAX_VALUE, a[i])));
            }
        } else {
            md.getIntArray(P + "token_type"); // throws the usual wrong-type message
        }
        return types;
    }

    /** Special ids from metadata; ids outside the vocabulary are dropped later, as llama.cpp ignores them. */
    private static SpecialIds specialIds(GgufMetadata md, int defaultBos, int defaultEos, int defaultUnknown, boolean addBos) {
        return new SpecialIds(
                id(md, "bos_token_id", defaultBos),
                id(md, "eos_token_id", defaultEos),
                id(md, "eot_token_id", -1),
                id(md, "eom_token_id", -1),
                id(md, "unknown_token_id", defaultUnknown),
                id(md, "padding_token_id", -1),
                addBos);
    }

    private static int id(GgufMetadata md, String key, int defaultId) {
        if (!md.contains(P + key)) {
            return defaultId;
        }
        long v = md.getLong(P + key);
        return v >= 0 && v <= Integer.MAX_VALUE ? (int) v : defaultId;
    }

    static PreTokenizer preTokenizer(Path file, String pre) {
        return switch (pre) {
            case "llama-bpe", "llama3", "llama-v3", "falcon3", "dbrx", "smaug-bpe" -> PreTokenizer.LLAMA3;
            case "qwen2", "stablelm2", "megrez" -> PreTokenizer.QWEN2;
            // llama.cpp's "default" uses a few extra splits of its own; GPT-2's pattern is the standard reading
            case "default", "gpt-2", "gpt2", "phi-2", "mpt", "olmo", "jais", "roberta-bpe" -> PreTokenizer.GPT2;
            default -> throw new ModelFormatException(file, "unsupported pre-tokenizer '" + pre
                    + "' (quant4j knows llama-bpe, qwen2 and gpt-2 style ones)");
        };
    }

    /** Merges given as "left right" strings, ranked by their order. */
    static MergeTable readMerges(Path file, String[] merges, Vocabulary vocab) {
        MergeTable table = new MergeTable(merges.length);
        for (int rank = 0; rank < merges.length; rank++) {
            String m = merges[rank];
            int space = m.indexOf(' ', 1); // from 1: the left part may itself be a space
            if (space < 0) {
                throw new ModelFormatException(file, "merge #" + rank + " '" + m + "' is not two tokens separated by a space");
            }
            addMerge(table, vocab, m.substring(0, space), m.substring(space + 1), rank);
        }
        return table;
    }

    /** Adds one merge; merges naming unknown tokens can never apply, so they are skipped. */
    static void addMerge(MergeTable table, Vocabulary vocab, String left, String right, int rank) {
        int l = vocab.id(left);
        int r = vocab.id(right);
        int merged = vocab.id(left + right);
        if (l >= 0 && r >= 0 && merged >= 0) {
            table.putIfAbsent(l, r, merged, rank);
        }
    }
}
