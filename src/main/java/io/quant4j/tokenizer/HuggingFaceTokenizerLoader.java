package io.quant4j.tokenizer;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.quant4j.format.ModelFormatException;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * Reads a Hugging Face tokenizer folder: tokenizer.json (a BPE model, either SentencePiece-style with byte fallback
 * and {@code ▁} for spaces, or byte-level with a regex pre-tokenizer), or failing that tokenizer.model; plus
 * tokenizer_config.json for add_bos_token and the BOS/EOS texts, and config.json's vocab_size for padding.
 * Token types follow llama.cpp's converter: special added tokens are control tokens, other added tokens are
 * user-defined unless they look like {@code <|...|>}.
 */
final class HuggingFaceTokenizerLoader {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int MAX_EXTRA_IDS = 1 << 20; // how far ids may run past the entries (embedding padding)

    private HuggingFaceTokenizerLoader() {
    }

    static Tokenizer load(Path dir) {
        if (!Files.isDirectory(dir)) {
            throw new ModelFormatException(dir, "not a directory (expected a Hugging Face model or tokenizer folder)");
        }
        Path tokenizerJson = dir.resolve("tokenizer.json");
        Path configJson = dir.resolve("tokenizer_config.json");
        JsonNode config = Files.isRegularFile(configJson) ? readJson(configJson) : JSON.createObjectNode();
        if (Files.isRegularFile(tokenizerJson)) {
            return fromTokenizerJson(tokenizerJson, config, modelVocabSize(dir));
        }
        Path spModel = dir.resolve("tokenizer.model");
        if (Files.isRegularFile(spModel)) {
            JsonNode addBos = config.get("add_bos_token");
            return SentencePieceModelLoader.load(spModel, addBos != null && addBos.isBoolean() ? addBos.asBoolean() : null);
        }
        throw new ModelFormatException(dir, "has neither tokenizer.json nor tokenizer.model");
    }

    static JsonNode readJson(Path file) {
        try {
            return JSON.readTree(file.toFile());
        } catch (JsonProcessingException e) {
            String where = e.getLocation() == null ? "" : " at line " + e.getLocation().getLineNr() + ", column " + e.getLocation().getColumnNr();
            throw new ModelFormatException(file, "malformed JSON" + where + ": " + firstLine(e.getOriginalMessage()));
        } catch (NoSuchFileException e) {
            throw new ModelFormatException(file, "no such file");
        } catch (IOException e) {
            throw new ModelFormatException(file, "cannot read: " + e.getMessage());
        }
    }

    private static String firstLine(String s) {
        if (s == null) {
            return "";
        }
        int nl = s.indexOf('\n');
        return nl < 0 ? s : s.substring(0, nl);
    }

    private static int modelVocabSize(Path dir) {
        Path config = dir.resolve("config.json");
        if (!Files.isRegularFile(config)) {
            return 0;
        }
        JsonNode size = readJson(config).get("vocab_size");
        return size != null && size.canConvertToInt() ? size.asInt() : 0;
    }

    private static Tokenizer fromTokenizerJson(Path file, JsonNode config, int modelVocabSize) {
        JsonNode root = readJson(file);
        if (!root.isObject()) {
            throw new ModelFormatException(file, "is not a JSON object");
        }
        JsonNode model = object(file, root, "model");
        String type = model.path("type").asText("BPE");
        if (!type.equals("BPE")) {
            throw new ModelFormatException(file, "tokenizer model type '" + type + "' is not supported (quant4j reads BPE)");
        }
        for (String affix : new String[]{"continuing_subword_prefix", "end_of_word_suffix"}) {
            if (!model.path(affix).asText("").isEmpty()) {
                throw new ModelFormatException(file, "model." + affix + " is not supported");
            }
        }
        TokenizerJsonPipeline pipeline = TokenizerJsonPipeline.read(file, root);
        boolean byteFallback = model.path("byte_fallback").asBoolean(false);
        boolean sentencePiece = byteFallback || pipeline.metaspace;
        if (!sentencePiece && !pipeline.byteLevel) {
            throw new ModelFormatException(file, "a BPE model that is neither byte-level nor SentencePiece-style (byte_fallback/▁) is not supported");
        }

        String unk = model.path("unk_token").isTextual() ? model.get("unk_token").asText() : null;
        String[] texts = vocabularyTexts(file, object(file, model, "vocab"), root.get("added_tokens"), modelVocabSize);
        int n = texts.length;
        TokenType[] types = new TokenType[n];
        for (int i = 0; i < n; i++) {
            String t = texts[i];
            if (t == null) {
                texts[i] = "[PAD" + i + "]";
                types[i] = TokenType.UNUSED;
            } else if (t.equals(unk)) {
                types[i] = TokenType.UNKNOWN;
            } else if (byteFallback && t.length() == 6 && t.startsWith("<0x") && t.endsWith(">")) {
                types[i] = TokenType.BYTE;
            } else {
                types[i] = TokenType.NORMAL;
            }
        }
        JsonNode added = root.get("added_tokens");
        if (added != null && added.isArray()) {
            for (JsonNode a : added) {
                int id = a.get("id").asInt();
                String content = a.get("content").asText();
                boolean special = a.path("special").asBoolean(false);
                types[id] = content.equals(unk) ? TokenType.UNKNOWN
                        : special || looksSpecial(content) ? TokenType.CONTROL : TokenType.USER_DEFINED;
            }
        }

        Vocabulary probe = new Vocabulary(file, texts.clone(), new float[n], types.clone(), new SpecialIds(-1, -1, -1, -1, -1, -1, false));
        int bos = specialId(probe, config.get("bos_token"), pipeline.templateFirstSpecial, "<s>", "<|begin_of_text|>");
        int eos = specialId(probe, config.get("eos_token"), null, "</s>", "<|end_of_text|>", "<|endoftext|>");
        int unkId = unk == null ? -1 : probe.id(unk);
        int pad = specialId(probe, config.get("pad_token"), null);
        PreTokenizer preTokenizer = pipeline.preTokenizer(file);
        boolean addBos;
        JsonNode addBosNode = config.get("add_bos_token");
        if (addBosNode != null && addBosNode.isBoolean()) {
            addBos = addBosNode.asBoolean();
        } else if (pipeline.templateFirstSpecial != null) {
            addBos = true;
        } else {
            addBos = sentencePiece || preTokenizer == PreTokenizer.LLAMA3; // llama.cpp's defaults
        }
        Vocabulary vocab = new Vocabulary(file, texts, new float[n], types, new SpecialIds(bos, eos, -1, -1, unkId, pad, addBos));
        MergeTable merges = readMerges(file, model.get("merges"), vocab);
        if (sentencePiece) {
            return SentencePieceTokenizer.mergeRanked(vocab, pipeline.spacePrefix, merges);
        }
        boolean ignoreMerges = model.path("ignore_merges").asBoolean(false);
        return new ByteLevelBpeTokenizer(vocab, preTokenizer, merges, ignoreMerges, pipeline.nfc);
    }

    private static JsonNode object(Path file, JsonNode parent, String key) {
        JsonNode node = parent.get(key);
        if (node == null || !node.isObject()) {
            throw new ModelFormatException(file, "missing or malformed '" + key + "' object");
        }
        return node;
    }

    /** Texts by id from model.vocab and added_tokens; ids nobody names stay null (padding). */
    private static String[] vocabularyTexts(Path file, JsonNode vocab, JsonNode added, int modelVocabSize) {
        int entries = vocab.size() + (added == null ? 0 : added.size());
        int limit = entries + MAX_EXTRA_IDS;
        int maxId = -1;
        for (Map.Entry<String, JsonNode> e : vocab.properties()) {
            maxId = Math.max(maxId, checkedId(file, e.getValue(), "vocab entry '" + e.getKey() + "'", limit));
        }
        if (added != null) {
            if (!added.isArray()) {
                throw new ModelFormatException(file, "'added_tokens' is not an array");
            }
            for (JsonNode a : added) {
                if (!a.isObject() || !a.path("content").isTextual()) {
                    throw new ModelFormatException(file, "an added token lacks its 'content' text");
                }
                maxId = Math.max(maxId, checkedId(file, a.get("id"), "added token '" + a.get("content").asText() + "'", limit));
            }
        }
        if (maxId < 0) {
            throw new ModelFormatException(file, "the vocabulary is empty");
        }
        int n = maxId + 1;
        if (modelVocabSize > n && modelVocabSize <= limit) {
            n = modelVocabSize; // the embedding table is padded; the extra ids are unused slots
        }
        String[] texts = new String[n];
        for (Map.Entry<String, JsonNode> e : vocab.properties()) {
            texts[e.getValue().asInt()] = e.getKey();
        }
        if (added != null) {
            for (JsonNode a : added) {
                texts[a.get("id").asInt()] = a.get("content").asText();
            }
        }
        return texts;
    }

    private static int checkedId(Path file, JsonNode id, String what, int limit) {
        if (id == null || !id.canConvertToInt() || !id.isIntegralNumber()) {
            throw new ModelFormatException(file, what + " has no integer id");
        }
        int v = id.asInt();
        if (v < 0 || v >= limit) {
            throw new ModelFormatException(file, what + " has id " + v + ", impossible for a vocabulary of " + (limit - MAX_EXTRA_IDS) + " entries");
        }
        return v;
    }

    /** Merges as "left right" strings (older files) or [left, right] pairs (newer ones), ranked by order. */
    private static MergeTable readMerges(Path file, JsonNode merges, Vocabulary vocab) {
        if (merges == null || merges.isNull()) {
            return new MergeTable(16);
        }
        if (!merges.isArray()) {
            throw new ModelFormatException(file, "model.merges is not an array");
        }
        MergeTable table = new MergeTable(merges.size());
        int rank = 0;
        for (JsonNode m : merges) {
            String left;
            String right;
            if (m.isTextual()) {
                String s = m.asText();
                int space = s.indexOf(' ', 1);
                if (space < 0) {
                    throw new ModelFormatException(file, "merge #" + rank + " '" + s + "' is not two tokens separated by a space");
                }
                left = s.substring(0, space);
                right = s.substring(space + 1);
            } else if (m.isArray() && m.size() == 2 && m.get(0).isTextual() && m.get(1).isTextual()) {
                left = m.get(0).asText();
                right = m.get(1).asText();
            } else {
                throw new ModelFormatException(file, "merge #" + rank + " is neither \"a b\" nor [\"a\", \"b\"]");
            }
            GgufTokenizerLoader.addMerge(table, vocab, left, right, rank);
            rank++;
        }
        return table;
    }

    /** As llama.cpp's converter: added tokens that look like <|...|> are control tokens even if not marked special. */
    static boolean looksSpecial(String t) {
        return (t.startsWith("<|") && t.endsWith("|>"))
                || (t.startsWith("<\uFF5C") && t.endsWith("\uFF5C>"))
                || (t.startsWith("<unused") && t.endsWith(">"))
                || List.of("<pad>", "<mask>", "<2mass>", "[@BOS@]").contains(t);
    }

    /** The id of a special token named in tokenizer_config.json (a string or {"content": ...}), else of the first fallback text present. */
    private static int specialId(Vocabulary vocab, JsonNode configured, String fromTemplate, String... fallbacks) {
        if (configured != null && !configured.isNull()) {
            String text = configured.isTextual() ? configured.asText() : configured.path("content").asText(null);
            return text == null ? -1 : vocab.id(text);
        }
        List<String> candidates = new ArrayList<>();
        if (fromTemplate != null) {
            candidates.add(fromTemplate);
        }
        candidates.addAll(Arrays.asList(fallbacks));
        for (String c : candidates) {
            int id = vocab.id(c);
            if (id >= 0) {
                return id;
            }
        }
        return -1;
    }
}
