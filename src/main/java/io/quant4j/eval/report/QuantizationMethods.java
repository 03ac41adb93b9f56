package io.quant4j.eval.report;

import io.quant4j.quantize.FileType;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The quantization methods {@code quant4j report --types} knows, by name. {@link #defaults()} holds every llama.cpp
 * file type quant4j can write; other methods (GPTQ, NF4, ...) join with {@link #register}.
 */
public final class QuantizationMethods {
    private final Map<String, QuantizationMethod> byName = new LinkedHashMap<>();

    public static QuantizationMethods defaults() {
        QuantizationMethods m = new QuantizationMethods();
        for (FileType t : FileType.values()) {
            m.register(new GgufFileTypeMethod(t));
        }
        return m;
    }

    public QuantizationMethods register(QuantizationMethod method) {
        String key = key(method.name());
        if (byName.containsKey(key)) {
            throw new IllegalArgumentException("a quantization method named '" + method.name() + "' is already registered");
        }
        byName.put(key, method);
        return this;
    }

    public List<String> names() {
        List<String> names = new ArrayList<>();
        for (QuantizationMethod m : byName.values()) {
            names.add(m.name());
        }
        return Collections.unmodifiableList(names);
    }

    public QuantizationMethod get(String name) {
        QuantizationMethod m = byName.get(key(name));
        if (m == null) {
            throw new IllegalArgumentException("unknown type '" + name.trim() + "' in --types; known: " + String.join(",", names()));
        }
        return m;
    }

    /** A comma-separated list as given to {@code --types}: every name must be known, none repeated. */
    public List<QuantizationMethod> parseList(String list) {
        List<QuantizationMethod> out = new ArrayList<>();
        for (String part : list.split(",", -1)) {
            if (part.isBlank()) {
                throw new IllegalArgumentException("empty name in --types '" + list + "'");
            }
            QuantizationMethod m = get(part);
            if (out.contains(m)) {
                throw new IllegalArgumentException("type '" + part.trim() + "' is listed twice in --types");
            }
            out.add(m);
        }
        return out;
    }

    private static String key(String name) {
        return name.trim().toUpperCase(Locale.ROOT);
    }
}
