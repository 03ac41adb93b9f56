package io.quant4j.format.safetensors;

import com.fasterxml.jackson.databind.JsonNode;
import io.quant4j.format.BoundedReader;
import io.quant4j.format.Json;
import io.quant4j.format.MappedFile;
import io.quant4j.format.ModelFormatException;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static io.quant4j.format.ModelFormatException.quote;

/**
 * A safetensors file, memory-mapped read-only: u64 header length, JSON header, then one data section that the
 * tensors tile exactly (sorted by offset, no gaps, no overlaps, nothing after the last one), as the reference
 * implementation requires. Every offset and size is checked against the file before use. Close it to unmap.
 */
public final class SafetensorsFile implements AutoCloseable {
    /** The reference implementation refuses larger headers; so do we (a lying length must not allocate). */
    public static final long MAX_HEADER_LENGTH = 100_000_000L;
    public static final String METADATA_KEY = "__metadata__";

    private final Path path;
    private final Arena arena;
    private final MemorySegment mapped;
    private final long dataOffset;
    private final Map<String, String> metadata;
    private final LinkedHashMap<String, SafetensorsTensorInfo> tensors;

    private SafetensorsFile(Path path, Arena arena, MemorySegment mapped, long dataOffset, Map<String, String> metadata,
                            LinkedHashMap<String, SafetensorsTensorInfo> tensors) {
        this.path = path;
        this.arena = arena;
        this.mapped = mapped;
        this.dataOffset = dataOffset;
        this.metadata = metadata;
        this.tensors = tensors;
    }

    public static SafetensorsFile open(Path path) {
        Arena arena = Arena.ofShared();
        try {
            return parse(path, arena, MappedFile.map(path, arena, "a safetensors file"));
        } catch (RuntimeException e) {
            arena.close();
            throw e;
        }
    }

    private static SafetensorsFile parse(Path path, Arena arena, MemorySegment mapped) {
        BoundedReader r = new BoundedReader(path, mapped);
        long size = r.size();
        if (size < 8) {
            throw new ModelFormatException(path, "not a safetensors file: " + size + " bytes is shorter than the 8-byte header length");
        }
        long headerLength = r.i64("header length");
        if (headerLength < 0 || headerLength > MAX_HEADER_LENGTH) {
            throw new ModelFormatException(path, "not a safetensors file: header length " + Long.toUnsignedString(headerLength)
                    + " is absurd (limit " + MAX_HEADER_LENGTH + ")");
        }
        if (headerLength > size - 8) {
            throw new ModelFormatException(path, "truncated or not a safetensors file: header length " + headerLength
                    + " is larger than the rest of the file (" + (size - 8) + " bytes)");
        }
        JsonNode header = Json.parseObject(path, r.bytes(headerLength, "header"), "header");
        long dataOffset = 8 + headerLength;
        long dataLength = size - dataOffset;

        Map<String, String> metadata = Map.of();
        List<SafetensorsTensorInfo> list = new ArrayList<>();
        for (Map.Entry<String, JsonNode> e : header.properties()) {
            if (e.getKey().equals(METADATA_KEY)) {
                metadata = readMetadata(path, e.getValue());
            } else {
                list.add(readTensor(path, e.getKey(), e.getValue(), dataOffset, dataLength));
            }
        }
        // The tensors must tile the data section: sorted by offset, each begins where the previous one ends.
        list.sort(Comparator.comparingLong(SafetensorsTensorInfo::offset).thenComparingLong(SafetensorsTensorInfo::byteSize));
        long expected = dataOffset;
        LinkedHashMap<String, SafetensorsTensorInfo> tensors = new LinkedHashMap<>();
        for (SafetensorsTensorInfo t : list) {
            if (t.offset() != expected) {
                throw new ModelFormatException(path, "tensor " + quote(t.name()) + " "
                        + (t.offset() < expected ? "overlaps the previous tensor" : "leaves a gap after the previous tensor")
                        + ": data_offsets begin at " + (t.offset() - dataOffset) + ", expected " + (expected - dataOffset));
            }
            expected += t.byteSize();
            tensors.put(t.name(), t);
        }
        if (expected != size) {
            throw new ModelFormatException(path, "corrupt: " + (size - expected) + " bytes after the last tensor are not described by the header");
        }
        return new SafetensorsFile(path, arena, mapped, dataOffset, metadata, tensors);
    }

    private static Map<String, String> readMetadata(Path path, JsonNode node) {
        if (!node.isObject()) {
            throw new ModelFormatException(path, "'" + METADATA_KEY + "' is not a JSON object of strings");
        }
        Map<String, String> out = new LinkedHashMap<>();
        for (Map.Entry<String, JsonNode> e : node.properties()) {
            if (!e.getValue().isTextual()) {
                throw new ModelFormatException(path, "'" + METADATA_KEY + "' value of " + quote(e.getKey()) + " is not a string");
            }
            out.put(e.getKey(), e.getValue().textValue());
        }
        return Collections.unmodifiableMap(out);
    }

    private static SafetensorsTensorInfo readTensor(Path path, String name, JsonNode node, long dataOffset, long dataLength) {
        String t = "tensor " + quote(name);
        if (!node.isObject()) {
            throw new ModelFormatException(path, t + " is described by " + node.getNodeType().toString().toLowerCase() + ", not an object");
        }
        JsonNode dtypeNode = node.get("dtype");
        if (dtypeNode == null || !dtypeNode.isTextual()) {
            throw new ModelFormatException(path, t + " has no \"dtype\" string");
        }
        SafetensorsDtype dtype = SafetensorsDtype.fromName(dtypeNode.textValue()).orElseThrow(() ->
                new ModelFormatException(path, t + " has unknown dtype " + quote(dtypeNode.textValue())));
        long[] shape = nonNegativeLongs(path, t, node, "shape", -1);
        long[] offsets = nonNegativeLongs(path, t, node, "data_offsets", 2);
        long elements = 1;
        long bytes;
        try {
            for (long d : shape) {
                elements = Math.multiplyExact(elements, d);
            }
            bytes = Math.multiplyExact(elements, (long) dtype.size);
        } catch (ArithmeticException e) {
            throw new ModelFormatException(path, t + " has an absurd shape " + Arrays.toString(shape));
        }
        long begin = offsets[0];
        long end = offsets[1];
        if (end < begin) {
            throw new ModelFormatException(path, t + " has data_offsets [" + begin + ", " + end + "] that end before they begin");
        }
        if (end > dataLength) {
            throw new ModelFormatException(path, t + " (data_offsets [" + begin + ", " + end + "]) lies past the end of the file (data section is "
                    + dataLength + " bytes): truncated?");
        }
        if (end - begin != bytes) {
            throw new ModelFormatException(path, t + " has data_offsets [" + begin + ", " + end + "] (" + (end - begin) + " bytes) but "
                    + dtype + " x " + Arrays.toString(shape) + " needs " + bytes + " bytes");
        }
        return new SafetensorsTensorInfo(name, dtype, shape, dataOffset + begin, bytes);
    }

    private static long[] nonNegativeLongs(Path path, String t, JsonNode node, String field, int requiredLength) {
        JsonNode a = node.get(field);
        if (a == null || !a.isArray() || (requiredLength >= 0 && a.size() != requiredLength)) {
            throw new ModelFormatException(path, t + " has no \"" + field + "\" array" + (requiredLength >= 0 ? " of " + requiredLength + " integers" : ""));
        }
        long[] out = new long[a.size()];
        for (int i = 0; i < out.length; i++) {
            JsonNode v = a.get(i);
            if (!Json.isNonNegativeLong(v)) {
                throw new ModelFormatException(path, t + " \"" + field + "\" holds " + quote(String.valueOf(v)) + ", not a non-negative 64-bit integer");
            }
            out[i] = v.asLong();
        }
        return out;
    }

    public Path path() {
        return path;
    }

    /** The free-form {@code __metadata__} strings (empty when absent). */
    public Map<String, String> metadata() {
        return metadata;
    }

    /** All tensors in data order. */
    public Map<String, SafetensorsTensorInfo> tensors() {
        return Collections.unmodifiableMap(tensors);
    }

    public boolean hasTensor(String name) {
        return tensors.containsKey(name);
    }

    public SafetensorsTensorInfo tensor(String name) {
        SafetensorsTensorInfo t = tensors.get(name);
        if (t == null) {
            throw new ModelFormatException(path, "missing tensor " + quote(name));
        }
        return t;
    }

    /** The tensor's bytes, a slice of the mapping (no copy). */
    public MemorySegment data(SafetensorsTensorInfo t) {
        return mapped.asSlice(t.offset(), t.byteSize());
    }

    public MemorySegment data(String name) {
        return data(tensor(name));
    }

    /** Where the data section starts (8 + header length). */
    public long dataOffset() {
        return dataOffset;
    }

    public long fileSize() {
        return mapped.byteSize();
    }

    public Arena arena() {
        return arena;
    }

    @Override
    public void close() {
        arena.close();
    }
}
