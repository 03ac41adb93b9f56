package io.quant4j.format.gguf;

import io.quant4j.format.ModelFormatException;

import java.nio.file.Path;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/** The key/value section of a GGUF file, in file order, with typed accessors that fail with a clear message. */
public final class GgufMetadata {
    private final Path file;
    private final LinkedHashMap<String, GgufValue> values;

    public GgufMetadata(Path file, LinkedHashMap<String, GgufValue> values) {
        this.file = file;
        this.values = values;
    }

    public Map<String, GgufValue> asMap() {
        return Collections.unmodifiableMap(values);
    }

    public boolean contains(String key) {
        return values.containsKey(key);
    }

    public Optional<GgufValue> get(String key) {
        return Optional.ofNullable(values.get(key));
    }

    private GgufValue require(String key) {
        GgufValue v = values.get(key);
        if (v == null) {
            throw new ModelFormatException(file, "missing metadata key '" + key + "'");
        }
        return v;
    }

    public String getString(String key) {
        GgufValue v = require(key);
        if (v.value() instanceof String s) {
            return s;
        }
        throw wrongType(key, v, "string");
    }

    public Optional<String> findString(String key) {
        return contains(key) ? Optional.of(getString(key)) : Optional.empty();
    }

    public long getLong(String key) {
        GgufValue v = require(key);
        if (v.value() instanceof Integer i) {
            return i;
        }
        if (v.value() instanceof Long l) {
            return l;
        }
        throw wrongType(key, v, "integer");
    }

    /** An integer that must fit an int and lie in [min, max]: counts and ids from a file are checked here. */
    public int getInt(String key, int min, int max) {
        long v = getLong(key);
        if (v < min || v > max) {
            throw new ModelFormatException(file, "metadata '" + key + "' = " + v + " is out of range [" + min + ", " + max + "]");
        }
        return (int) v;
    }

    public Optional<Integer> findInt(String key, int min, int max) {
        return contains(key) ? Optional.of(getInt(key, min, max)) : Optional.empty();
    }

    public float getFloat(String key) {
        GgufValue v = require(key);
        if (v.value() instanceof Float f) {
            return f;
        }
        if (v.value() instanceof Double d) {
            return d.floatValue();
        }
        if (v.value() instanceof Number n) {
            return n.floatValue();
        }
        throw wrongType(key, v, "float");
    }

    public Optional<Float> findFloat(String key) {
        return contains(key) ? Optional.of(getFloat(key)) : Optional.empty();
    }

    public boolean getBoolean(String key) {
        GgufValue v = require(key);
        if (v.value() instanceof Boolean b) {
            return b;
        }
        throw wrongType(key, v, "bool");
    }

    public Optional<Boolean> findBoolean(String key) {
        return contains(key) ? Optional.of(getBoolean(key)) : Optional.empty();
    }

    public String[] getStringArray(String key) {
        GgufValue v = require(key);
        if (v.value() instanceof String[] a) {
            return a;
        }
        throw wrongType(key, v, "string array");
    }

    public float[] getFloatArray(String key) {
        GgufValue v = require(key);
        if (v.value() instanceof float[] a) {
            return a;
        }
        throw wrongType(key, v, "float32 array");
    }

    /** Integer arrays of any width up to 32 bits. */
    public int[] getIntArray(String key) {
        GgufValue v = require(key);
        if (v.value() instanceof int[] a) {
            return a;
        }
        throw wrongType(key, v, "integer array");
    }

    private ModelFormatException wrongType(String key, GgufValue v, String expected) {
        return new ModelFormatException(file, "metadata '" + key + "' is " + describe(v) + ", expected " + expected);
    }

    private static String describe(GgufValue v) {
        return v.type() == GgufValueType.ARRAY ? "an array of " + v.elementType().name().toLowerCase() : "a " + v.type().name().toLowerCase();
    }
}
