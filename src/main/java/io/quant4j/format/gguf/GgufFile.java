package io.quant4j.format.gguf;

import io.quant4j.format.BoundedReader;
import io.quant4j.format.MappedFile;
import io.quant4j.format.ModelFormatException;
import io.quant4j.tensor.GgmlType;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static io.quant4j.format.ModelFormatException.quote;

/**
 * A GGUF v2/v3 file, memory-mapped read-only: header, metadata, tensor infos, and tensor data as slices of
 * one mapped segment (long offsets, so files over 2 GB work). Every count, size and offset is validated
 * against the file length before it is used. Close it to unmap.
 */
public final class GgufFile implements AutoCloseable {
    public static final int MAGIC = 0x46554747; // "GGUF" little-endian
    public static final int DEFAULT_ALIGNMENT = 32;
    private static final int MAX_DIMS = 4;
    private static final int MAX_NESTING = 8;

    private final Path path;
    private final Arena arena;
    private final MemorySegment mapped;
    private final int version;
    private final GgufMetadata metadata;
    private final LinkedHashMap<String, GgufTensorInfo> tensors;
    private final int alignment;
    private final long dataOffset;

    private GgufFile(Path path, Arena arena, MemorySegment mapped, int version, GgufMetadata metadata,
                     LinkedHashMap<String, GgufTensorInfo> tensors, int alignment, long dataOffset) {
        this.path = path;
        this.arena = arena;
        this.mapped = mapped;
        this.version = version;
        this.metadata = metadata;
        this.tensors = tensors;
        this.alignment = alignment;
        this.dataOffset = dataOffset;
    }

    public static GgufFile open(Path path) {
        Arena arena = Arena.ofShared();
        try {
            MemorySegment mapped = map(path, arena);
            GgufFile f = parse(path, arena, mapped);
            return f;
        } catch (RuntimeException e) {
            arena.close();
            throw e;
        }
    }

    static MemorySegment map(Path path, Arena arena) {
        return MappedFile.map(path, arena, "a GGUF file");
    }

    private static GgufFile parse(Path path, Arena arena, MemorySegment mapped) {
        BoundedReader r = new BoundedReader(path, mapped);
        if (r.remaining() < 4 || r.i32("magic") != MAGIC) {
            throw new ModelFormatException(path, "not a GGUF file (bad magic)");
        }
        int version = r.i32("version");
        if (version < 2 || version > 3) {
            throw new ModelFormatException(path, "unsupported GGUF version " + version + " (quant4j reads v2 and v3)");
        }
        long tensorCount = r.i64("tensor count");
        long kvCount = r.i64("metadata count");
        // each KV takes at least 8 (key length) + 4 (type) + 1 bytes; each tensor info at least 8+4+4+8 bytes
        if (kvCount < 0 || kvCount > r.remaining() / 13) {
            throw new ModelFormatException(path, "corrupt header: metadata count " + Long.toUnsignedString(kvCount) + " is impossible for a file of " + r.size() + " bytes");
        }
        if (tensorCount < 0 || tensorCount > r.remaining() / 24) {
            throw new ModelFormatException(path, "corrupt header: tensor count " + Long.toUnsignedString(tensorCount) + " is impossible for a file of " + r.size() + " bytes");
        }
        LinkedHashMap<String, GgufValue> kv = new LinkedHashMap<>();
        for (long i = 0; i < kvCount; i++) {
            String key = readString(r, "metadata key #" + i, true);
            int typeId = r.i32("type of " + quote(key));
            GgufValueType type = GgufValueType.fromId(typeId);
            if (type == null) {
                throw new ModelFormatException(path, "metadata " + quote(key) + " has unknown value type " + typeId);
            }
            if (kv.put(key, readValue(r, type, key, 0)) != null) {
                throw new ModelFormatException(path, "duplicate metadata key " + quote(key));
            }
        }
        GgufMetadata metadata = new GgufMetadata(path, kv);
        int alignment = DEFAULT_ALIGNMENT;
        if (metadata.contains("general.alignment")) {
            long a = metadata.getLong("general.alignment");
            if (a <= 0 || a > (1 << 20) || Long.bitCount(a) != 1) {
                throw new ModelFormatException(path, "general.alignment " + a + " is not a power of two");
            }
            alignment = (int) a;
        }

        List<String> names = new ArrayList<>();
        List<long[]> shapes = new ArrayList<>();
        List<GgmlType> types = new ArrayList<>();
        List<Long> offsets = new ArrayList<>();
        for (long i = 0; i < tensorCount; i++) {
            String name = readString(r, "name of tensor #" + i, true);
            int nDims = r.i32("dimension count of tensor " + quote(name));
            if (nDims < 1 || nDims > MAX_DIMS) {
                throw new ModelFormatException(path, "tensor " + quote(name) + " has " + nDims + " dimensions (1 to 4 allowed)");
            }
            long[] shape = new long[nDims];
            long elements = 1;
            for (int d = 0; d < nDims; d++) {
                shape[d] = r.i64("shape of tensor " + quote(name));
                if (shape[d] <= 0 || shape[d] > r.size() * 8 + 64) {
                    throw new ModelFormatException(path, "tensor " + quote(name) + " has absurd dimension " + Long.toUnsignedString(shape[d]));
                }
                elements = multiplyOrFail(path, name, elements, shape[d]);
            }
            int typeId = r.i32("type of tensor " + quote(name));
            GgmlType type = GgmlType.fromId(typeId).orElseThrow(() ->
                    new ModelFormatException(path, "tensor " + quote(name) + " has unknown ggml type id " + typeId));
            if (shape[0] % type.blockSize != 0) {
                throw new ModelFormatException(path, "tensor " + quote(name) + " row length " + shape[0] + " is not a multiple of the " + type + " block size " + type.blockSize);
            }
            long offset = r.i64("data offset of tensor " + quote(name));
            if (offset < 0 || offset % alignment != 0) {
                throw new ModelFormatException(path, "tensor " + quote(name) + " data offset " + Long.toUnsignedString(offset) + " is not aligned to " + alignment);
            }
            names.add(name);
            shapes.add(shape);
            types.add(type);
            offsets.add(offset);
        }
        long dataOffset = alignUp(r.position(), alignment);
        LinkedHashMap<String, GgufTensorInfo> tensors = new LinkedHashMap<>();
        for (int i = 0; i < names.size(); i++) {
            String name = names.get(i);
            long[] shape = shapes.get(i);
            long elements = 1;
            for (long d : shape) {
                elements *= d;
            }
            long bytes = types.get(i).byteSize(elements);
            long start = dataOffset + offsets.get(i);
            if (start < dataOffset || start + bytes > mapped.byteSize() || start + bytes < start) {
                throw new ModelFormatException(path, "tensor " + quote(name) + " (" + bytes + " bytes at offset " + start
                        + ") lies past the end of the file (" + mapped.byteSize() + " bytes): truncated?");
            }
            if (tensors.put(name, new GgufTensorInfo(name, shape, types.get(i), start, bytes)) != null) {
                throw new ModelFormatException(path, "duplicate tensor name " + quote(name));
            }
        }
        return new GgufFile(path, arena, mapped, version, metadata, tensors, alignment, dataOffset);
    }

    private static long multiplyOrFail(Path path, String name, long a, long b) {
        try {
            long n = Math.multiplyExact(a, b);
            if (n > (1L << 50)) {
                throw new ArithmeticException();
            }
            return n;
        } catch (ArithmeticException e) {
            throw new ModelFormatException(path, "tensor " + quote(name) + " has an absurd element count");
        }
    }

    static long alignUp(long offset, int alignment) {
        return offset + (alignment - offset % alignment) % alignment;
    }

    private static String readString(BoundedReader r, String what, boolean strict) {
        long len = r.i64("length of " + what);
        if (len < 0 || len > r.remaining()) {
            throw new ModelFormatException(r.file(), "corrupt: " + what + " claims " + Long.toUnsignedString(len) + " bytes but " + r.remaining() + " remain");
        }
        return strict ? r.utf8(len, what) : r.utf8Lenient(len, what);
    }

    private static GgufValue readValue(BoundedReader r, GgufValueType type, String key, int depth) {
        String what = "value of " + quote(key);
        return switch (type) {
            case UINT8 -> GgufValue.of(type, r.i8(what) & 0xFF);
            case INT8 -> GgufValue.of(type, (int) r.i8(what));
            case UINT16 -> GgufValue.of(type, r.i16(what) & 0xFFFF);
            case INT16 -> GgufValue.of(type, (int) r.i16(what));
            case UINT32 -> GgufValue.of(type, r.i32(what) & 0xFFFFFFFFL);
            case INT32 -> GgufValue.of(type, r.i32(what));
            case FLOAT32 -> GgufValue.of(type, r.f32(what));
            case BOOL -> GgufValue.of(type, r.i8(what) != 0);
            case STRING -> GgufValue.of(type, readString(r, what, false));
            case UINT64, INT64 -> GgufValue.of(type, r.i64(what));
            case FLOAT64 -> GgufValue.of(type, r.f64(what));
            case ARRAY -> readArray(r, key, depth);
        };
    }

    private static GgufValue readArray(BoundedReader r, String key, int depth) {
        if (depth >= MAX_NESTING) {
            throw new ModelFormatException(r.file(), "metadata " + quote(key) + " nests arrays too deeply");
        }
        int elemId = r.i32("array type of " + quote(key));
        GgufValueType et = GgufValueType.fromId(elemId);
        if (et == null) {
            throw new ModelFormatException(r.file(), "metadata " + quote(key) + " is an array of unknown type " + elemId);
        }
        long count = r.i64("array length of " + quote(key));
        if (count < 0 || count > r.remaining() / et.minBytes) {
            throw new ModelFormatException(r.file(), "corrupt: array " + quote(key) + " claims " + Long.toUnsignedString(count)
                    + " elements but only " + r.remaining() + " bytes remain");
        }
        // Files over 2 GB leave room for a lying count beyond what a Java array can hold.
        if (count > Integer.MAX_VALUE - 8) {
            throw new ModelFormatException(r.file(), "corrupt: array " + quote(key) + " claims " + Long.toUnsignedString(count)
                    + " elements, more than quant4j can hold");
        }
        int n = (int) count;
        String what = "element of " + quote(key);
        Object arr = switch (et) {
            case UINT8, INT8, UINT16, INT16, INT32 -> {
                int[] a = new int[n];
                for (int i = 0; i < n; i++) {
                    a[i] = switch (et) {
                        case UINT8 -> r.i8(what) & 0xFF;
                        case INT8 -> r.i8(what);
                        case UINT16 -> r.i16(what) & 0xFFFF;
                        case INT16 -> r.i16(what);
                        default -> r.i32(what);
                    };
                }
                yield a;
            }
            case UINT32, UINT64, INT64 -> {
                long[] a = new long[n];
                for (int i = 0; i < n; i++) {
                    a[i] = et == GgufValueType.UINT32 ? r.i32(what) & 0xFFFFFFFFL : r.i64(what);
                }
                yield a;
            }
            case FLOAT32 -> {
                float[] a = new float[n];
                for (int i = 0; i < n; i++) {
                    a[i] = r.f32(what);
                }
                yield a;
            }
            case FLOAT64 -> {
                double[] a = new double[n];
                for (int i = 0; i < n; i++) {
                    a[i] = r.f64(what);
                }
                yield a;
            }
            case BOOL -> {
                boolean[] a = new boolean[n];
                for (int i = 0; i < n; i++) {
                    a[i] = r.i8(what) != 0;
                }
                yield a;
            }
            case STRING -> {
                String[] a = new String[n];
                for (int i = 0; i < n; i++) {
                    a[i] = readString(r, what, false);
                }
                yield a;
            }
            case ARRAY -> {
                List<GgufValue> a = new ArrayList<>(Math.min(n, 1024));
                for (int i = 0; i < n; i++) {
                    a.add(readArray(r, key, depth + 1));
                }
                yield a;
            }
        };
        return GgufValue.array(et, arr);
    }

    public Path path() {
        return path;
    }

    public int version() {
        return version;
    }

    public GgufMetadata metadata() {
        return metadata;
    }

    public Map<String, GgufTensorInfo> tensors() {
        return Collections.unmodifiableMap(tensors);
    }

    public GgufTensorInfo tensor(String name) {
        GgufTensorInfo t = tensors.get(name);
        if (t == null) {
            throw new ModelFormatException(path, "missing tensor " + quote(name));
        }
        return t;
    }

    public boolean hasTensor(String name) {
        return tensors.containsKey(name);
    }

    public int alignment() {
        return alignment;
    }

    public long dataOffset() {
        return dataOffset;
    }

    public long fileSize() {
        return mapped.byteSize();
    }

    /** The tensor's bytes, a slice of the mapping (no copy). */
    public MemorySegment data(GgufTensorInfo t) {
        return mapped.asSlice(t.offset(), t.byteSize());
    }

    public Arena arena() {
        return arena;
    }

    @Override
    public void close() {
        arena.close();
    }
}
