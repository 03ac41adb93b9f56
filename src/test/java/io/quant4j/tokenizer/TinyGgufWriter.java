package io.quant4j.tokenizer;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/** Writes metadata-only GGUF v3 files, to build small or deliberately broken vocabularies in tests. */
final class TinyGgufWriter {
    private final Map<String, Object> values = new LinkedHashMap<>();

    TinyGgufWriter put(String key, Object value) {
        values.put(key, value);
        return this;
    }

    void write(Path file) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        u32(out, 0x46554747);
        u32(out, 3);
        u64(out, 0); // no tensors
        u64(out, values.size());
        for (Map.Entry<String, Object> e : values.entrySet()) {
            string(out, e.getKey());
            Object v = e.getValue();
            switch (v) {
                case String s -> {
                    u32(out, 8);
                    string(out, s);
                }
                case Integer i -> {
                    u32(out, 4); // uint32, as llama.cpp writes token ids
                    u32(out, i);
                }
                case Boolean b -> {
                    u32(out, 7);
                    out.write(b ? 1 : 0);
                }
                case String[] a -> {
                    array(out, 8, a.length);
                    for (String s : a) {
                        string(out, s);
                    }
                }
                case float[] a -> {
                    array(out, 6, a.length);
                    for (float f : a) {
                        u32(out, Float.floatToRawIntBits(f));
                    }
                }
                case int[] a -> {
                    array(out, 5, a.length);
                    for (int i : a) {
                        u32(out, i);
                    }
                }
                default -> throw new IllegalArgumentException("unsupported value " + v);
            }
        }
        Files.write(file, out.toByteArray());
    }

    private static void array(ByteArrayOutputStream out, int elementType, int length) {
        u32(out, 9);
        u32(out, elementType);
        u64(out, length);
    }

    private static void string(ByteArrayOutputStream out, String s) {
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        u64(out, b.length);
        out.writeBytes(b);
    }

    private static void u32(ByteArrayOutputStream out, int v) {
        out.writeBytes(ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(v).array());
    }

    private static void u64(ByteArrayOutputStream out, long v) {
        out.writeBytes(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(v).array());
    }
}
