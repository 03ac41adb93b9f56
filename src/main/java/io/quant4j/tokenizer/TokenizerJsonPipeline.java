package io.quant4j.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;
import io.quant4j.format.ModelFormatException;

import java.nio.file.Path;

/**
 * What the normalizer, pre-tokenizer and post-processor of a tokenizer.json ask for, reduced to the choices quant4j's
 * tokenizers offer; any step they cannot honour is refused rather than ignored.
 */
final class TokenizerJsonPipeline {
    boolean metaspace;           // spaces are spelled ▁ (SentencePiece style)
    boolean spacePrefix;         // a ▁ is put before the text
    boolean byteLevel;           // GPT-2 byte alphabet
    boolean byteLevelRegex;      // the ByteLevel step splits with GPT-2's own regex
    boolean nfc;                 // NFC-normalize the input (Qwen)
    String splitRegex;           // the Split step's pattern, if any
    String templateFirstSpecial; // the special token the post-processor puts first (BOS), if any

    static TokenizerJsonPipeline read(Path file, JsonNode root) {
        TokenizerJsonPipeline p = new TokenizerJsonPipeline();
        p.normalizer(file, root.get("normalizer"));
        p.preTokenizerStep(file, root.get("pre_tokenizer"));
        JsonNode post = root.get("post_processor");
        if (post != null && "TemplateProcessing".equals(post.path("type").asText())) {
            JsonNode first = post.path("single").path(0).path("SpecialToken").path("id");
            p.templateFirstSpecial = first.isTextual() ? first.asText() : null;
        }
        return p;
    }

    private void normalizer(Path file, JsonNode n) {
        if (n == null || n.isNull()) {
            return;
        }
        String type = n.path("type").asText();
        switch (type) {
            case "Sequence" -> n.path("normalizers").forEach(child -> normalizer(file, child));
            case "Prepend" -> {
                requireSpaceMark(file, n.path("prepend").asText(), "Prepend normalizer");
                metaspace = true;
                spacePrefix = true;
            }
            case "Replace" -> {
                if (!n.path("pattern").path("String").asText().equals(" ")) {
                    throw new ModelFormatException(file, "Replace normalizer other than ' ' → '▁' is not supported");
                }
                requireSpaceMark(file, n.path("content").asText(), "Replace normalizer");
                metaspace = true;
            }
            case "NFC" -> nfc = true;
            default -> throw new ModelFormatException(file, "normalizer '" + type + "' is not supported");
        }
    }

    private void preTokenizerStep(Path file, JsonNode n) {
        if (n == null || n.isNull()) {
            return;
        }
        String type = n.path("type").asText();
        switch (type) {
            case "Sequence" -> n.path("pretokenizers").forEach(child -> preTokenizerStep(file, child));
            case "Split" -> {
                JsonNode regex = n.path("pattern").path("Regex");
                if (!regex.isTextual() || !"Isolated".equals(n.path("behavior").asText()) || n.path("invert").asBoolean(false)) {
                    throw new ModelFormatException(file, "only an isolating regex Split pre-tokenizer is supported");
                }
                splitRegex = regex.asText();
            }
            case "ByteLevel" -> {
                if (n.path("add_prefix_space").asBoolean(false)) {
                    throw new ModelFormatException(file, "ByteLevel pre-tokenizer with add_prefix_space is not supported");
                }
                byteLevel = true;
                byteLevelRegex = n.path("use_regex").asBoolean(true);
            }
            case "Metaspace" -> {
                requireSpaceMark(file, n.path("replacement").asText("\u2581"), "Metaspace pre-tokenizer");
                metaspace = true;
                String scheme = n.path("prepend_scheme").asText(n.path("add_prefix_space").asBoolean(true) ? "always" : "never");
                spacePrefix = !scheme.equals("never"); // llama.cpp also prefixes after special tokens
            }
            default -> throw new ModelFormatException(file, "pre-tokenizer '" + type + "' is not supported");
        }
    }

    private static void requireSpaceMark(Path file, String s, String what) {
        if (!s.equals("\u2581")) {
            throw new ModelFormatException(file, what + " with '" + s + "' instead of '▁' is not supported");
        }
    }

    PreTokenizer preTokenizer(Path file) {
        if (splitRegex != null) {
            try {
                return PreTokenizer.forRegex(splitRegex);
            } catch (java.util.regex.PatternSyntaxException e) {
                throw new ModelFormatException(file, "pre-tokenizer regex does not compile: " + e.getDescription());
            }
        }
        return PreTokenizer.GPT2; // ByteLevel with use_regex: GPT-2's own pattern
    }
}
