package io.quant4j.quantize;

import io.quant4j.format.ModelFormatException;
import io.quant4j.format.gguf.GgufFile;
import io.quant4j.format.gguf.GgufTensorInfo;
import io.quant4j.format.gguf.GgufValue;
import io.quant4j.format.gguf.GgufValueType;
import io.quant4j.format.gguf.GgufWriter;
import io.quant4j.model.GgufModelSource;
import io.quant4j.model.LlamaConfig;
import io.quant4j.tensor.GgmlType;
import io.quant4j.tensor.Parallel;
import io.quant4j.tensor.quant.RowCodec;
import io.quant4j.tensor.quant.RowCodecs;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ForkJoinTask;
import java.util.Map;

/**
 * llama-quantize for GGUF input: plans the per-tensor types, then streams tensor by tensor, a slab of rows at
 * a time, read from the input with FileChannel into a reused buffer, through float rows into the target block
 * format and on into a {@link GgufWriter} (temp file, renamed when complete). Reading, quantizing and writing
 * overlap (two buffers each); memory stays at those buffers and a float row per thread, never the model.
 */
public final class GgufQuantizer {
    /** Rows per slab are chosen so one slab of floats stays near this size. */
    private static final long SLAB_FLOATS = 1 << 21;
    /** Tensors kept as they are move through the buffers in pieces of this many bytes. */
    private static final int COPY_BYTES = 1 << 23;

    /** Progress of one tensor, printed like llama-quantize's per-tensor lines. */
    public interface Listener {
        void tensorDone(int index, int total, PlannedTensor tensor, long bytesIn, long bytesOut);
    }

    /** What was written. */
    public record Result(QuantizationPlanner.Plan plan, long bytesIn, long bytesOut) {
    }

    private GgufQuantizer() {
    }

    public static Result quantize(Path in, Path out, QuantizeOptions options, ImportanceMatrix imatrix, Listener listener) {
        try (GgufFile src = GgufFile.open(in)) {
            LlamaConfig c = GgufModelSource.configOf(src);
            List<QuantizationPlanner.SourceTensor> sources = src.tensors().values().stream()
                    .map(t -> new QuantizationPlanner.SourceTensor(t.name(), t.shape(), t.type())).toList();
            QuantizationPlanner.Plan plan = QuantizationPlanner.plan(sources, c.nLayers(), c.nHeads(), c.nKvHeads(), options);
            for (PlannedTensor p : plan.tensors()) {
                if (p.converts()) {
                    codec(in, p.sourceType(), p.name());
                    codec(in, p.targetType(), p.name());
                }
            }
            long bytesIn = 0;
            long bytesOut = 0;
            try (GgufWriter w = new GgufWriter(out, src.alignment())) {
                for (Map.Entry<String, GgufValue> e : src.metadata().asMap().entrySet()) {
                    w.put(e.getKey(), e.getValue());
                }
                // llama.cpp sets (remove + append) these two last
                w.remove("general.quantization_version").putUint32("general.quantization_version", 2);
                w.remove("general.file_type").putUint32("general.file_type", options.fileType().id);
                if (imatrix != null) {
                    imatrix.describeInto(w);
                }
                for (PlannedTensor p : plan.tensors()) {
                    w.addTensor(p.name(), p.shape(), p.targetType());
                }
                w.writeHeader();
                long[] totals = streamTensors(in, src, plan, imatrix, w, listener);
                bytesIn = totals[0];
                bytesOut = totals[1];
                w.finish();
            }
            return new Result(plan, bytesIn, bytesOut);
        }
    }

    private static RowCodec codec(Path file, GgmlType type, String tensor) {
        try {
            return RowCodecs.forType(type);
        } catch (RuntimeException e) {
            throw new ModelFormatException(file, "tensor '" + tensor + "': type " + type + " cannot be converted by quant4j");
        }
    }

    /**
     * One step of the stream: rows [row0, row0+rows) of a converted tensor, or bytes [row0, row0+rows) of a
     * tensor copied as is. {@code last} marks the tensor's final piece.
     */
    private record Piece(int index, PlannedTensor plan, GgufTensorInfo info, long row0, int rows, long inBytes,
                         long outBytes, boolean last) {
        boolean copy() {
            return !plan.converts();
        }
    }

    /**
     * Streams every tensor through two input and two output buffers: while the pool quantizes piece k, this
     * thread writes piece k−1 and reads piece k+1 with positional FileChannel reads. Nothing of the input is
     * mapped, so its pages never count against this process; memory stays at the four buffers.
     */
    private static long[] streamTensors(Path in, GgufFile src, QuantizationPlanner.Plan plan, ImportanceMatrix imatrix,
                                        GgufWriter w, Listener listener) {
        List<Piece> pieces = new ArrayList<>();
        long maxIn = 1;
        long maxOut = 1;
        int index = 0;
        for (PlannedTensor p : plan.tensors()) {
            GgufTensorInfo t = src.tensor(p.name());
            index++;
            if (!p.converts()) {
                long size = t.byteSize();
                if (size == 0) {
                    pieces.add(new Piece(index, p, t, 0, 0, 0, 0, true));
                }
                for (long b0 = 0; b0 < size; b0 += COPY_BYTES) {
                    int n = (int) Math.min(COPY_BYTES, size - b0);
                    pieces.add(new Piece(index, p, t, b0, n, n, n, b0 + n == size));
                    maxIn = Math.max(maxIn, n);
                }
                continue;
            }
            int cols = (int) t.rowLength();
            long rows = t.rowCount();
            long inRow = p.sourceType().byteSize(cols);
            long outRow = p.targetType().byteSize(cols);
            int slabRows = (int) Math.max(1, Math.min(rows, SLAB_FLOATS / cols));
            if (rows == 0) {
                pieces.add(new Piece(index, p, t, 0, 0, 0, 0, true));
            }
            for (long r0 = 0; r0 < rows; r0 += slabRows) {
                int n = (int) Math.min(slabRows, rows - r0);
                pieces.add(new Piece(index, p, t, r0, n, n * inRow, n * outRow, r0 + n == rows));
                maxIn = Math.max(maxIn, n * inRow);
                maxOut = Math.max(maxOut, n * outRow);
            }
        }
        long bytesIn = 0;
        long bytesOut = 0;
        int total = plan.tensors().size();
        try (FileChannel ch = FileChannel.open(in, StandardOpenOption.READ); Arena arena = Arena.ofShared()) {
            MemorySegment[] inBuf = {arena.allocate(maxIn, 64), arena.allocate(maxIn, 64)};
            MemorySegment[] outBuf = {arena.allocate(maxOut, 64), arena.allocate(maxOut, 64)};
            if (!pieces.isEmpty()) {
                read(ch, in, pieces.getFirst(), inBuf[0]);
            }
            for (int k = 0; k <= pieces.size(); k++) {
                int b = k & 1;
                Piece cur = k < pieces.size() ? pieces.get(k) : null;
                ForkJoinTask<?> job = cur == null || cur.copy() ? null : convert(cur, inBuf[b], outBuf[b], imatrix);
                try {
                    if (k > 0) {
                        Piece prev = pieces.get(k - 1);
                        MemorySegment done = prev.copy() ? inBuf[b ^ 1] : outBuf[b ^ 1];
                        w.writeTensorData(done.asSlice(0, prev.outBytes()));
                        if (prev.last()) {
                            bytesIn += prev.info().byteSize();
                            long written = prev.plan().targetType().byteSize(prev.info().elementCount());
                            bytesOut += written;
                            if (listener != null) {
                                listener.tensorDone(prev.index(), total, prev.plan(), prev.info().byteSize(), written);
                            }
                        }
                    }
                    if (k + 1 < pieces.size()) {
                        read(ch, in, pieces.get(k + 1), inBuf[b ^ 1]);
                    }
                } finally {
                    if (job != null) {
                        job.join();
                    }
                }
            }
        } catch (IOException e) {
            throw new ModelFormatException(in, "cannot read: " + e.getMessage());
        }
        return new long[]{bytesIn, bytesOut};
    }

    private static void read(FileChannel ch, Path file, Piece piece, MemorySegment buf) throws IOException {
        long pos = piece.info().offset() + (piece.copy() ? piece.row0()
                : piece.row0() * piece.plan().sourceType().byteSize(piece.info().rowLength()));
        ByteBuffer bb = buf.asSlice(0, piece.inBytes()).asByteBuffer();
        while (bb.hasRemaining()) {
            int n = ch.read(bb, pos);
            if (n < 0) {
                throw new ModelFormatException(file, "truncated: tensor '" + piece.info().name() + "' ends past the end of the file");
            }
            pos += n;
        }
    }

    private static ForkJoinTask<?> convert(Piece piece, MemorySegment inBuf, MemorySegment outBuf, ImportanceMatrix imatrix) {
        PlannedTensor p = piece.plan();
        RowCodec from = RowCodecs.forType(p.sourceType());
        RowCodec to = RowCodecs.forType(p.targetType());
        int cols = (int) piece.info().rowLength();
        float[] importance = imatrix == null ? null : imatrix.weightsFor(p.name(), cols);
        long inRowBytes = p.sourceType().byteSize(cols);
        long outRowBytes = p.targetType().byteSize(cols);
        return Parallel.forRangeAsync(piece.rows(), (long) cols * 64, (a, b) -> {
            float[] buf = rowBuffer(cols);
            for (int r = a; r < b; r++) {
                from.dequantizeRow(inBuf, r * inRowBytes, buf, 0, cols);
                to.quantizeRow(buf, 0, cols, outBuf, r * outRowBytes, importance);
            }
        });
    }

    private static final ThreadLocal<float[]> ROW = ThreadLocal.withInitial(() -> new float[0]);

    /** A per-thread float row of at least {@code cols} values, reused across slabs and tensors. */
    private static float[] rowBuffer(int cols) {
        float[] buf = ROW.get();
        if (buf.length < cols) {
            buf = new float[cols];
            ROW.set(buf);
        }
        return buf;
    }
}
