package io.quant4j.quantize;

import io.quant4j.format.BoundedReader;
import io.quant4j.format.ModelFormatException;
import io.quant4j.format.gguf.GgufValue;
import io.quant4j.format.gguf.GgufValueType;
import io.quant4j.format.gguf.GgufWriter;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * llama.cpp's importance matrix: per weight tensor, the mean of x_j² over every input vector x that tensor
 * multiplied, one value per input column. Stored in llama-imatrix's legacy .dat format: int32 entry count;
 * per entry int32 name length, name, int32 ncall, int32 nval, float[nval] (sums scaled so that dividing by
 * ncall gives the mean); then int32 chunk count and the dataset name.
 */
public final class ImportanceMatrix {
    /** Accumulator for one tensor: Σx² per column and how many vectors were seen. */
    private static final class Entry {
        final double[] sumSquares;
        long count;

        Entry(int n) {
            sumSquares = new double[n];
        }
    }

    private final Map<String, Entry> entries = new LinkedHashMap<>();
    private final Map<String, float[]> loaded = new LinkedHashMap<>();
    private String file = "";
    private String dataset = "";
    private int chunks;

    /** Collects x_j² for the tensor that {@code x} is about to be multiplied by. */
    public synchronized void observe(String tensor, float[] x, int n) {
        Entry e = entries.computeIfAbsent(tensor, k -> new Entry(n));
        if (e.sumSquares.length != n) {
            throw new IllegalStateException("tensor " + tensor + " seen with " + n + " and " + e.sumSquares.length + " inputs");
        }
        for (int j = 0; j < n; j++) {
            e.sumSquares[j] += (double) x[j] * x[j];
        }
        e.count++;
    }

    public void setChunks(int chunks) {
        this.chunks = chunks;
    }

    public void setDataset(String dataset) {
        this.dataset = dataset;
    }

    public int entryCount() {
        return entries.isEmpty() ? loaded.size() : entries.size();
    }

    public int chunks() {
        return chunks;
    }

    /** Importance per input column for a tensor, or null when the matrix has no entry for it. */
    public float[] weightsFor(String tensor, int cols) {
        float[] w = loaded.get(tensor);
        if (w == null) {
            Entry e = entries.get(tensor);
            if (e == null) {
                return null;
            }
            w = new float[e.sumSquares.length];
            for (int j = 0; j < w.length; j++) {
                w[j] = (float) (e.sumSquares[j] / Math.max(1, e.count));
            }
        }
        if (w.length != cols) {
            if (tensor.equals("token_embd.weight")) {
                return null;
            }
            throw new IllegalArgumentException("imatrix has " + w.length + " values for " + tensor + " but its rows have " + cols);
        }
        return w;
    }

    /** Adds llama-quantize's quantize.imatrix.* keys. */
    void describeInto(GgufWriter w) {
        w.putString("quantize.imatrix.file", file);
        w.putString("quantize.imatrix.dataset", dataset);
        w.put("quantize.imatrix.entries_count", GgufValue.of(GgufValueType.INT32, entryCount()));
        w.put("quantize.imatrix.chunks_count", GgufValue.of(GgufValueType.INT32, chunks));
    }

    /** Writes the legacy .dat format (temp file, then rename). Values are stored as mean × ncall, ncall = chunks. */
    public void save(Path out) {
        Path tmp = out.toAbsolutePath().resolveSibling("." + out.getFileName() + ".tmp");
        int ncall = Math.max(1, chunks);
        try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING, StandardOpenOption.WRITE)) {
            ByteBuffer head = ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(entries.size()).flip();
            write(ch, head);
            for (Map.Entry<String, Entry> me : entries.entrySet()) {
                byte[] name = me.getKey().getBytes(StandardCharsets.UTF_8);
                Entry e = me.getValue();
                ByteBuffer b = ByteBuffer.allocate(12 + name.length + 4 * e.sumSquares.length).order(ByteOrder.LITTLE_ENDIAN);
                b.putInt(name.length).put(name).putInt(ncall).putInt(e.sumSquares.length);
                for (double s : e.sumSquares) {
                    b.putFloat((float) (s / Math.max(1, e.count) * ncall));
                }
                write(ch, b.flip());
            }
            byte[] ds = dataset.getBytes(StandardCharsets.UTF_8);
            write(ch, ByteBuffer.allocate(8 + ds.length).order(ByteOrder.LITTLE_ENDIAN).putInt(chunks).putInt(ds.length).put(ds).flip());
        } catch (IOException e) {
            throw new UncheckedIOException(out + ": cannot write: " + e.getMessage(), e);
        }
        try {
            Files.move(tmp, out, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            throw new UncheckedIOException(out + ": cannot write: " + e.getMessage(), e);
        }
    }

    private static void write(FileChannel ch, ByteBuffer b) throws IOException {
        while (b.hasRemaining()) {
            ch.write(b);
        }
    }

    /** Reads a llama-imatrix .dat file; values are divided by ncall as llama-quantize does. */
    public static ImportanceMatrix load(Path path) {
        ImportanceMatrix m = new ImportanceMatrix();
        m.file = path.toString();
        try (Arena arena = Arena.ofConfined(); FileChannel ch = FileChannel.open(path, StandardOpenOption.READ)) {
            long size = ch.size();
            MemorySegment seg = size == 0 ? MemorySegment.NULL.reinterpret(0) : ch.map(FileChannel.MapMode.READ_ONLY, 0, size, arena);
            BoundedReader r = new BoundedReader(path, seg);
            int n = r.i32("entry count");
            if (n < 0 || n > size / 16) {
                throw new ModelFormatException(path, "not an imatrix file (entry count " + n + ")");
            }
            for (int i = 0; i < n; i++) {
                int len = r.i32("name length");
                if (len <= 0 || len > 4096) {
                    throw new ModelFormatException(path, "corrupt imatrix: entry " + i + " has name length " + len);
                }
                String name = r.utf8(len, "entry name");
                int ncall = r.i32("ncall of " + name);
                int nval = r.i32("value count of " + name);
                if (nval <= 0 || (long) nval * 4 > r.remaining()) {
                    throw new ModelFormatException(path, "corrupt imatrix: entry " + name + " claims " + nval + " values");
                }
                float[] v = new float[nval];
                for (int j = 0; j < nval; j++) {
                    v[j] = r.f32("values of " + name);
                    if (ncall > 0) {
                        v[j] /= ncall;
                    }
                }
                m.loaded.put(name, v);
            }
            if (r.remaining() >= 8) {
                m.chunks = r.i32("chunk count");
                int dl = r.i32("dataset name length");
                if (dl >= 0 && dl <= r.remaining()) {
                    m.dataset = r.utf8Lenient(dl, "dataset name");
                }
            }
        } catch (IOException e) {
            throw new ModelFormatException(path, "cannot read: " + e.getMessage());
        }
        return m;
    }
}
