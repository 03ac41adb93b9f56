package io.quant4j.tokenizer;

import io.quant4j.testing.Shared;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * llama.cpp's tokenizer test vectors ({@code ggml-vocab-*.gguf.inp/.out}): texts separated by
 * "\n__ggml_vocab_test__\n" (the file ends with one), and one line of ids per text, tokenized without BOS and
 * without special parsing (test-tokenizer-0's add_special=false, parse_special=false).
 */
record VocabTestVectors(Path gguf, List<String> texts, List<int[]> ids) {
    static final String SEPARATOR = "\n__ggml_vocab_test__\n";

    static VocabTestVectors load(String ggufName) {
        Path gguf = Shared.file("tokenizers/" + ggufName);
        return load(gguf, Path.of(gguf + ".out"));
    }

    /** The texts beside a vocabulary GGUF with the expected ids from another file. */
    static VocabTestVectors load(Path gguf, Path expectedIds) {
        String ggufName = gguf.getFileName().toString();
        try {
            String inp = Files.readString(Path.of(gguf + ".inp"), StandardCharsets.UTF_8);
            List<String> texts = new ArrayList<>(Arrays.asList(inp.split(SEPARATOR, -1)));
            if (texts.getLast().isEmpty()) {
                texts.removeLast(); // after the final separator
            }
            List<int[]> ids = new ArrayList<>();
            for (String line : Files.readAllLines(expectedIds, StandardCharsets.UTF_8)) {
                String t = line.strip();
                ids.add(t.isEmpty() ? new int[0] : Arrays.stream(t.split(" +")).mapToInt(Integer::parseInt).toArray());
            }
            if (ids.size() != texts.size()) {
                throw new IllegalStateException(ggufName + ": " + texts.size() + " texts but " + ids.size() + " id lines");
            }
            return new VocabTestVectors(gguf, texts, ids);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Descriptions of the vectors the tokenizer gets wrong (empty when all match). */
    List<String> mismatches(Tokenizer tokenizer) {
        List<String> wrong = new ArrayList<>();
        for (int i = 0; i < texts.size(); i++) {
            int[] got = tokenizer.encode(texts.get(i), false, false);
            if (!Arrays.equals(got, ids.get(i))) {
                wrong.add("#" + i + " " + escape(texts.get(i)) + ": expected " + Arrays.toString(ids.get(i)) + " got " + Arrays.toString(got));
            }
        }
        return wrong;
    }

    static String escape(String s) {
        StringBuilder b = new StringBuilder("\"");
        s.codePoints().forEach(c -> {
            if (c == '\n') {
                b.append("\\n");
            } else if (c == '\t') {
                b.append("\\t");
            } else if (c < 0x20) {
                b.append(String.format("\\x%02x", c));
            } else {
                b.appendCodePoint(c);
            }
        });
        return b.append('"').toString();
    }
}
