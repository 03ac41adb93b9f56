package io.quant4j.format.safetensors;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.quant4j.format.Json;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Writes a safetensors file as the reference library does: tensors ordered by dtype alignment (largest first)
 * then by name, offsets packed from 0, {@code __metadata__} first in a compact JSON header padded with spaces to a
 * multiple of 8 bytes. The file is written under a temporary name beside the target, forced to disk, then renamed
 * over it atomically, so a crash never leaves a half-written checkpoint under the real name.
 *
 * <p>Tensor bytes are produced only at {@link #write} time, straight into the mapped output, so a checkpoint larger
 * than the heap can be written from mapped sources or by a producer that quantizes as it goes.
 */
public final class SafetensorsWriter {
    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    /** Fills a tensor's bytes (exactly its byte size, little-endian) into {@code target}; may use several threads. */
    @FunctionalInterface
    public interface TensorFiller {
        void fill(MemorySegment target);
    }

    private record Pending(String name, SafetensorsDtype dtype, long[] shape, long byteSize, TensorFiller filler) {
    }

    private final Map<String, String> metadata = new LinkedHashMap<>();
    private final List<Pending> tensors = new ArrayList<>();
    private final Set<String> names = new HashSet<>();

    public SafetensorsWriter metadata(String key, String value) {
        metadata.put(key, value);
        return this;
    }

    /** Adds a tensor whose bytes will be produced by {@code filler} when the file is written. */
    public SafetensorsWriter add(String name, SafetensorsDtype dtype, long[] shape, TensorFiller filler) {
        if (name.equals(SafetensorsFile.METADATA_KEY)) {
            throw new IllegalArgumentException("'" + name + "' is reserved for metadata");
        }
        if (!names.add(name)) {
            throw new IllegalArgumentException("duplicate tensor '" + name + "'");
        }
        long elements = 1;
        for (long d : shape) {
            if (d < 0) {
                throw new IllegalArgumentException("tensor '" + name + "' has negative dimension in " + Arrays.toString(shape));
            }
            elements = Math.multiplyExact(elements, d);
        }
        tensors.add(new Pending(name, dtype, shape.clone(), Math.multiplyExact(elements, (long) dtype.size), filler));
        return this;
    }

    /** Adds a tensor whose bytes are {@code data} (copied at write time; it must stay valid until then). */
    public SafetensorsWriter add(String name, SafetensorsDtype dtype, long[] shape, MemorySegment data) {
        add(name, dtype, shape, target -> MemorySegment.copy(data, 0, target, 0, target.byteSize()));
        long expected = tensors.getLast().byteSize();
        if (data.byteSize() != expected) {
            tensors.removeLast();
            names.remove(name);
            throw new IllegalArgumentException("tensor '" + name + "': " + data.byteSize() + " bytes given, " + dtype + " x "
                    + Arrays.toString(shape) + " needs " + expected);
        }
        return this;
    }

    /** Adds an F32 tensor from a float array (copied now). */
    public SafetensorsWriter addF32(String name, float[] values, long... shape) {
        MemorySegment seg = Arena.ofAuto().allocate(4L * values.length, 4);
        MemorySegment.copy(values, 0, seg, F32, 0, values.length);
        return add(name, SafetensorsDtype.F32, shape, seg);
    }

    /** Writes the file to {@code target} (replacing it atomically). */
    public void write(Path target) throws IOException {
        List<Pending> order = new ArrayList<>(tensors);
        order.sort(Comparator.comparing(Pending::dtype).reversed().thenComparing(Pending::name));
        byte[] header = header(order);
        long dataLength = 0;
        for (Pending p : order) {
            dataLength += p.byteSize();
        }
        long total = 8 + header.length + dataLength;

        Path dir = target.toAbsolutePath().getParent();
        Path tmp = Files.createTempFile(dir, "." + target.getFileName() + ".", ".tmp");
        try {
            try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.READ, StandardOpenOption.WRITE);
                 Arena arena = Arena.ofShared()) {
                MemorySegment out = ch.map(FileChannel.MapMode.READ_WRITE, 0, total, arena);
                out.set(ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), 0, header.length);
                MemorySegment.copy(header, 0, out, ValueLayout.JAVA_BYTE, 8, header.length);
                long offset = 8 + header.length;
                for (Pending p : order) {
                    p.filler().fill(out.asSlice(offset, p.byteSize()));
                    offset += p.byteSize();
                }
                out.force();
            }
            Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException | RuntimeException | Error e) {
            Files.deleteIfExists(tmp);
            throw e;
        }
    }

    private byte[] header(List<Pending> order) throws IOException {
        ObjectNode root = Json.mapper().createObjectNode();
        if (!metadata.isEmpty()) {
            ObjectNode md = root.putObject(SafetensorsFile.METADATA_KEY);
            metadata.forEach(md::put);
        }
        long offset = 0;
        for (Pending p : order) {
            ObjectNode t = root.putObject(p.name());
            t.put("dtype", p.dtype().name());
            ArrayNode shape = t.putArray("shape");
            for (long d : p.shape()) {
                shape.add(d);
            }
            t.putArray("data_offsets").add(offset).add(offset + p.byteSize());
            offset += p.byteSize();
        }
        byte[] json = Json.mapper().writeValueAsBytes(root);
        int padded = (json.length + 7) / 8 * 8;
        byte[] out = Arrays.copyOf(json, padded);
        Arrays.fill(out, json.length, padded, (byte) ' ');
        return out;
    }
}
