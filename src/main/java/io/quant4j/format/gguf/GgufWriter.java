package io.quant4j.format.gguf;

import io.quant4j.tensor.GgmlType;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Writes a GGUF v3 file as a stream: declare metadata and tensors (name, shape, type), then hand over each
 * tensor's bytes in declaration order, then {@link #finish()}. Data goes to a temporary file beside the target
 * that is renamed into place only when complete, so a crash never leaves a half-written model.
 */
public final class GgufWriter implements AutoCloseable {
    private record Pending(String name, long[] shape, GgmlType type, long bytes) {
    }

    private final Path target;
    private final Path temp;
    private final LinkedHashMap<String, GgufValue> metadata = new LinkedHashMap<>();
    private final List<Pending> tensors = new ArrayList<>();
    private final int alignment;
    private FileChannel channel;
    private int nextTensor;
    private long writtenOfCurrent;
    private boolean finished;

    public GgufWriter(Path target, int alignment) {
        if (alignment <= 0 || Long.bitCount(alignment) != 1) {
            throw new IllegalArgumentException("alignment must be a power of two");
        }
        this.target = target;
        Path dir = target.toAbsolutePath().getParent();
        this.temp = dir.resolve("." + target.getFileName() + ".tmp" + ProcessHandle.current().pid());
        this.alignment = alignment;
    }

    public GgufWriter(Path target) {
        this(target, GgufFile.DEFAULT_ALIGNMENT);
    }

    public GgufWriter put(String key, GgufValue value) {
        requireHeaderOpen();
        metadata.put(key, value);
        return this;
    }

    public GgufWriter putString(String key, String value) {
        return put(key, GgufValue.of(GgufValueType.STRING, value));
    }

    public GgufWriter putUint32(String key, long value) {
        return put(key, GgufValue.of(GgufValueType.UINT32, value));
    }

    public GgufWriter putFloat32(String key, float value) {
        return put(key, GgufValue.of(GgufValueType.FLOAT32, value));
    }

    public GgufWriter remove(String key) {
        requireHeaderOpen();
        metadata.remove(key);
        return this;
    }

    public Map<String, GgufValue> metadata() {
        return metadata;
    }

    /** Declares a tensor; shape in ggml order (shape[0] = row length). */
    public GgufWriter addTensor(String name, long[] shape, GgmlType type) {
        requireHeaderOpen();
        long elements = 1;
        for (long d : shape) {
            elements = Math.multiplyExact(elements, d);
        }
        tensors.add(new Pending(name, shape.clone(), type, type.byteSize(elements)));
        return this;
    }

    private void requireHeaderOpen() {
        if (channel != null) {
            throw new IllegalStateException("GGUF header already written");
        }
    }

    /** Writes header, metadata and tensor infos; after this only tensor data may follow. */
    public void writeHeader() {
        requireHeaderOpen();
        if (!metadata.containsKey("general.alignment") && alignment != GgufFile.DEFAULT_ALIGNMENT) {
            metadata.put("general.alignment", GgufValue.of(GgufValueType.UINT32, (long) alignment));
        }
        try {
            channel = FileChannel.open(temp, StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING, StandardOpenOption.WRITE);
            HeaderBuffer h = new HeaderBuffer();
            h.i32(GgufFile.MAGIC);
            h.i32(3);
            h.i64(tensors.size());
            h.i64(metadata.size());
            for (Map.Entry<String, GgufValue> e : metadata.entrySet()) {
                h.string(e.getKey());
                h.i32(e.getValue().type().id());
                h.value(e.getValue());
            }
            long offset = 0;
            for (Pending t : tensors) {
                h.string(t.name);
                h.i32(t.shape.length);
                for (long d : t.shape) {
                    h.i64(d);
                }
                h.i32(t.type.id);
                h.i64(offset);
                offset = GgufFile.alignUp(offset + t.bytes, alignment);
            }
            h.pad(alignment);
            writeFully(h.toBuffer());
        } catch (IOException e) {
            throw failure(e);
        }
        if (tensors.isEmpty()) {
            nextTensor = 0;
        }
    }

    /** Appends bytes of the current tensor; may be called several times per tensor. */
    public void writeTensorData(MemorySegment bytes) {
        writeTensorData(bytes.asByteBuffer());
    }

    public void writeTensorData(ByteBuffer bytes) {
        if (channel == null) {
            throw new IllegalStateException("writeHeader() first");
        }
        if (nextTensor >= tensors.size()) {
            throw new IllegalStateException("more tensor data than declared tensors");
        }
        Pending t = tensors.get(nextTensor);
        long n = bytes.remaining();
        if (writtenOfCurrent + n > t.bytes) {
            throw new IllegalStateException("tensor '" + t.name + "' is " + t.bytes + " bytes; got " + (writtenOfCurrent + n));
        }
        try {
            writeFully(bytes);
        } catch (IOException e) {
            throw failure(e);
        }
        writtenOfCurrent += n;
        if (writtenOfCurrent == t.bytes) {
            try {
                long pad = GgufFile.alignUp(t.bytes, alignment) - t.bytes;
                if (pad > 0 && nextTensor < tensors.size() - 1) {
                    writeFully(ByteBuffer.allocate((int) pad));
                }
            } catch (IOException e) {
                throw failure(e);
            }
            nextTensor++;
            writtenOfCurrent = 0;
        }
    }

    /** Flushes, closes and renames the temporary file onto the target. */
    public void finish() {
        if (nextTensor != tensors.size()) {
            throw new IllegalStateException("only " + nextTensor + " of " + tensors.size() + " tensors were written");
        }
        try {
            channel.force(false);
            channel.close();
            try {
                Files.move(temp, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(temp, target, StandardCopyOption.REPLACE_EXISTING);
            }
            finished = true;
        } catch (IOException e) {
            throw failure(e);
        }
    }

    private void writeFully(ByteBuffer b) throws IOException {
        while (b.hasRemaining()) {
            channel.write(b);
        }
    }

    private UncheckedIOException failure(IOException e) {
        close();
        return new UncheckedIOException(target + ": cannot write: " + e.getMessage(), e);
    }

    /** Without {@link #finish()}, removes the temporary file. */
    @Override
    public void close() {
        if (finished) {
            return;
        }
        try {
            if (channel != null) {
                channel.close();
            }
        } catch (IOException ignored) {
            // the temporary file is deleted next
        }
        try {
            Files.deleteIfExists(temp);
        } catch (IOException ignored) {
            // nothing more to do
        }
    }

    /** Growable little-endian buffer for the header. */
    private static final class HeaderBuffer {
        private ByteBuffer buf = ByteBuffer.allocate(1 << 16).order(ByteOrder.LITTLE_ENDIAN);

        private void ensure(int n) {
            if (buf.remaining() < n) {
                ByteBuffer bigger = ByteBuffer.allocate(Math.max(buf.capacity() * 2, buf.position() + n)).order(ByteOrder.LITTLE_ENDIAN);
                buf.flip();
                bigger.put(buf);
                buf = bigger;
            }
        }

        void i8(int v) {
            ensure(1);
            buf.put((byte) v);
        }

        void i16(int v) {
            ensure(2);
            buf.putShort((short) v);
        }

        void i32(int v) {
            ensure(4);
            buf.putInt(v);
        }

        void i64(long v) {
            ensure(8);
            buf.putLong(v);
        }

        void string(String s) {
            byte[] b = s.getBytes(StandardCharsets.UTF_8);
            i64(b.length);
            ensure(b.length);
            buf.put(b);
        }

        void scalar(GgufValueType type, Object v) {
            switch (type) {
                case UINT8, INT8 -> i8(((Number) v).intValue());
                case UINT16, INT16 -> i16(((Number) v).intValue());
                case UINT32, INT32 -> i32((int) ((Number) v).longValue());
                case FLOAT32 -> {
                    ensure(4);
                    buf.putFloat(((Number) v).floatValue());
                }
                case BOOL -> i8(((Boolean) v) ? 1 : 0);
                case STRING -> string((String) v);
                case UINT64, INT64 -> i64(((Number) v).longValue());
                case FLOAT64 -> {
                    ensure(8);
                    buf.putDouble(((Number) v).doubleValue());
                }
                case ARRAY -> throw new IllegalArgumentException("array where a scalar was expected");
            }
        }

        void value(GgufValue v) {
            if (v.type() != GgufValueType.ARRAY) {
                scalar(v.type(), v.value());
                return;
            }
            GgufValueType et = v.elementType();
            i32(et.id());
            i64(v.arrayLength());
            switch (v.value()) {
                case int[] a -> {
                    for (int x : a) {
                        scalar(et, x);
                    }
                }
                case long[] a -> {
                    for (long x : a) {
                        scalar(et, x);
                    }
                }
                case float[] a -> {
                    for (float x : a) {
                        scalar(et, x);
                    }
                }
                case double[] a -> {
                    for (double x : a) {
                        scalar(et, x);
                    }
                }
                case boolean[] a -> {
                    for (boolean x : a) {
                        scalar(et, x);
                    }
                }
                case String[] a -> {
                    for (String x : a) {
                        string(x);
                    }
                }
                case List<?> nested -> {
                    for (Object x : nested) {
                        value((GgufValue) x);
                    }
                }
                default -> throw new IllegalArgumentException("unsupported array value " + v.value().getClass());
            }
        }

        void pad(int alignment) {
            int pad = (int) (GgufFile.alignUp(buf.position(), alignment) - buf.position());
            ensure(pad);
            buf.put(new byte[pad]);
        }

        ByteBuffer toBuffer() {
            return buf.duplicate().flip();
        }
    }
}
