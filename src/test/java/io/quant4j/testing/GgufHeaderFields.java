package io.quant4j.testing;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * Walks a well-formed GGUF header (independently of the reader under test) and records where each count, length,
 * dimension, type id and offset lies, so that fuzz tests can overwrite exactly those fields. Arrays record their
 * count and only the first few element lengths (a 32000-string vocabulary needs no 32000 cases).
 */
public final class GgufHeaderFields {
    public enum Kind { COUNT, LENGTH, TYPE, DIM, OFFSET }

    /** A field: its kind, byte position, width (4 or 8) and what it is. */
    public record Field(Kind kind, int position, int width, String what) {
    }

    private static final int ELEMENTS_RECORDED = 1;

    private final ByteBuffer b;
    private final List<Field> fields = new ArrayList<>();
    private final List<Field> tensorNames = new ArrayList<>();
    private final List<long[]> arrayBodies = new ArrayList<>();

    private GgufHeaderFields(byte[] file) {
        b = ByteBuffer.wrap(file).order(ByteOrder.LITTLE_ENDIAN);
    }

    public static GgufHeaderFields of(byte[] file) {
        GgufHeaderFields w = new GgufHeaderFields(file);
        w.walk();
        return w;
    }

    public List<Field> fields() {
        return fields;
    }

    /** Where each tensor's name bytes start (position) and how long it is (width), with the name as {@code what}. */
    public List<Field> tensorNames() {
        return tensorNames;
    }

    /** [start, end) byte ranges of the element data of top-level metadata arrays. */
    public List<long[]> arrayBodies() {
        return arrayBodies;
    }

    public Field tensorField(String tensor, Kind kind) {
        return fields.stream().filter(f -> f.kind() == kind && f.what().startsWith(tensor + " ")).findFirst().orElseThrow();
    }

    private void walk() {
        b.position(8);
        long tensors = u64(Kind.COUNT, "tensor count");
        long kvs = u64(Kind.COUNT, "kv count");
        for (long i = 0; i < kvs; i++) {
            String key = string("key " + i, true);
            int type = u32(Kind.TYPE, key + " value type");
            value(key, type, true);
        }
        for (long i = 0; i < tensors; i++) {
            int namePos = b.position() + 8;
            String name = string("tensor " + i + " name", true);
            tensorNames.add(new Field(Kind.LENGTH, namePos, name.length(), name));
            int dims = u32(Kind.TYPE, name + " n_dims");
            for (int d = 0; d < dims; d++) {
                u64(Kind.DIM, name + " dim " + d);
            }
            u32(Kind.TYPE, name + " ggml type");
            u64(Kind.OFFSET, name + " offset");
        }
    }

    private void value(String key, int type, boolean record) {
        switch (type) {
            case 0, 1, 7 -> b.position(b.position() + 1);
            case 2, 3 -> b.position(b.position() + 2);
            case 4, 5, 6 -> b.position(b.position() + 4);
            case 10, 11, 12 -> b.position(b.position() + 8);
            case 8 -> string(key + " string", record);
            case 9 -> {
                int elem = record ? u32(Kind.TYPE, key + " element type") : b.getInt();
                long n = record ? u64(Kind.COUNT, key + " element count") : b.getLong();
                long start = b.position();
                for (long i = 0; i < n; i++) {
                    value(key + "[" + i + "]", elem, record && i < ELEMENTS_RECORDED);
                }
                if (record) {
                    arrayBodies.add(new long[]{start, b.position()});
                }
            }
            default -> throw new IllegalStateException("unexpected type " + type + " at " + key);
        }
    }

    private String string(String what, boolean record) {
        long len = record ? u64(Kind.LENGTH, what + " length") : b.getLong();
        byte[] s = new byte[(int) len];
        b.get(s);
        return new String(s, StandardCharsets.UTF_8);
    }

    private long u64(Kind kind, String what) {
        fields.add(new Field(kind, b.position(), 8, what));
        return b.getLong();
    }

    private int u32(Kind kind, String what) {
        fields.add(new Field(kind, b.position(), 4, what));
        return b.getInt();
    }
}
