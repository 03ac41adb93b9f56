package io.quant4j.format;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.json.JsonMapper;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;

/**
 * Strict JSON parsing for model files: duplicate keys and trailing garbage are errors (a header that says two
 * things about one tensor is corrupt), and every failure is a one-line {@link ModelFormatException}.
 */
public final class Json {
    private static final JsonMapper MAPPER = JsonMapper.builder()
            .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .build();
    private static final int MAX_MESSAGE = 200;

    private Json() {
    }

    public static JsonMapper mapper() {
        return MAPPER;
    }

    /**
     * Parses UTF-8 JSON bytes that must hold one object. {@code part} names the part of the file in errors
     * ("header"), or is null when the JSON is the whole file.
     */
    public static JsonNode parseObject(Path file, byte[] utf8, String part) {
        String subject = part == null ? "" : part + " is ";
        JsonNode node;
        try {
            node = MAPPER.readTree(utf8);
        } catch (JacksonException e) {
            throw new ModelFormatException(file, subject + "not valid JSON: " + oneLine(e.getOriginalMessage()));
        } catch (IOException | RuntimeException e) {
            throw new ModelFormatException(file, subject + "not valid JSON: " + oneLine(e.getMessage()));
        }
        if (node == null || !node.isObject()) {
            throw new ModelFormatException(file, subject + "not a JSON object");
        }
        return node;
    }

    /** Reads a whole (small) JSON file that must hold one object. */
    public static JsonNode readObjectFile(Path file, long maxBytes) {
        byte[] bytes;
        try {
            long size = Files.size(file);
            if (size > maxBytes) {
                throw new ModelFormatException(file, "is " + size + " bytes, too large for a JSON file of this kind (limit " + maxBytes + ")");
            }
            bytes = Files.readAllBytes(file);
        } catch (NoSuchFileException e) {
            throw new ModelFormatException(file, "no such file");
        } catch (IOException e) {
            throw new ModelFormatException(file, "cannot read: " + e.getMessage());
        }
        return parseObject(file, bytes, null);
    }

    static String oneLine(String message) {
        if (message == null) {
            return "unknown error";
        }
        String s = message.replaceAll("\\s+", " ").strip();
        return s.length() > MAX_MESSAGE ? s.substring(0, MAX_MESSAGE) + "..." : s;
    }

    /** Whether {@code n} is a JSON integer that fits a non-negative long. */
    public static boolean isNonNegativeLong(JsonNode n) {
        return n != null && n.isIntegralNumber() && n.canConvertToLong() && n.asLong() >= 0;
    }
}
