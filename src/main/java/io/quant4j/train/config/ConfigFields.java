package io.quant4j.train.config;

import com.fasterxml.jackson.databind.JsonNode;
import io.quant4j.format.ModelFormatException;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * Typed reads of a YAML mapping that remember which keys were read, so that whatever is left over can be reported
 * as unknown. Every problem is a one-line {@link ModelFormatException} naming the file and the key.
 */
final class ConfigFields {
    private final Path file;
    private final JsonNode node;
    private final String prefix;
    private final Set<String> read = new LinkedHashSet<>();

    ConfigFields(Path file, JsonNode node, String prefix) {
        this.file = file;
        this.node = node;
        this.prefix = prefix;
    }

    Path file() {
        return file;
    }

    ModelFormatException error(String key, String problem) {
        return new ModelFormatException(file, "'" + prefix + key + "' " + problem);
    }

    ModelFormatException error(String problem) {
        return new ModelFormatException(file, problem);
    }

    /** Present and not null (YAML's {@code key:} with nothing after it is null, which counts as absent). */
    boolean has(String key) {
        read.add(key);
        JsonNode v = node.get(key);
        return v != null && !v.isNull() && !(v.isTextual() && v.asText().isEmpty());
    }

    JsonNode raw(String key) {
        read.add(key);
        return node.get(key);
    }

    String string(String key, String fallback) {
        if (!has(key)) {
            return fallback;
        }
        JsonNode v = node.get(key);
        if (!v.isValueNode()) {
            throw error(key, "must be a string");
        }
        return v.asText();
    }

    boolean bool(String key, boolean fallback) {
        if (!has(key)) {
            return fallback;
        }
        JsonNode v = node.get(key);
        if (!v.isBoolean()) {
            throw error(key, "must be true or false, got '" + v.asText() + "'");
        }
        return v.asBoolean();
    }

    long integer(String key, long fallback) {
        if (!has(key)) {
            return fallback;
        }
        JsonNode v = node.get(key);
        if (v.isIntegralNumber() || (v.isNumber() && v.asDouble() == Math.rint(v.asDouble()))) {
            return v.asLong();
        }
        throw error(key, "must be an integer, got '" + v.asText() + "'");
    }

    double number(String key, double fallback) {
        if (!has(key)) {
            return fallback;
        }
        JsonNode v = node.get(key);
        if (v.isNumber()) {
            return v.asDouble();
        }
        if (v.isTextual()) {
            // YAML 1.1 reads 2e-4 without a dot as a string; accept it as PyYAML users expect
            try {
                return Double.parseDouble(v.asText().trim());
            } catch (NumberFormatException e) {
                // fall through
            }
        }
        throw error(key, "must be a number, got '" + v.asText() + "'");
    }

    /** A list of strings; a single string counts as a list of one. */
    List<String> strings(String key) {
        if (!has(key)) {
            return null;
        }
        JsonNode v = node.get(key);
        List<String> out = new ArrayList<>();
        if (v.isValueNode()) {
            out.add(v.asText());
        } else if (v.isArray()) {
            for (JsonNode e : v) {
                if (!e.isValueNode()) {
                    throw error(key, "must be a list of names");
                }
                out.add(e.asText());
            }
        } else {
            throw error(key, "must be a list");
        }
        return out;
    }

    /** A list of integers; a single integer counts as a list of one. */
    List<Integer> integers(String key) {
        if (!has(key)) {
            return null;
        }
        JsonNode v = node.get(key);
        List<Integer> out = new ArrayList<>();
        Iterator<JsonNode> it = v.isArray() ? v.elements() : List.of(v).iterator();
        while (it.hasNext()) {
            JsonNode e = it.next();
            if (!e.isIntegralNumber()) {
                throw error(key, "must be a list of integers, got '" + e.asText() + "'");
            }
            out.add(e.asInt());
        }
        return out;
    }

    /** Fails on the first key that was never read. */
    void rejectUnknown() {
        Iterator<String> names = node.fieldNames();
        while (names.hasNext()) {
            String name = names.next();
            if (!read.contains(name)) {
                throw new ModelFormatException(file, "unknown key '" + prefix + name + "'");
            }
        }
    }
}
