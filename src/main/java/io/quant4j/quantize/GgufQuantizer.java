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

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * llama-quantize for GGUF input: plans the per-tensor types, then streams tensor by tensor, a slab of rows at
 * a time, from the mapped input through float rows into the target block format and on into a
 * {@link GgufWriter} (temp file, renamed when complete). Memory stays at one slab per thread, never the model.
 */
public final class GgufQuantizer {
    /** Rows per slab are chosen so one slab of floats stays near this size. */
    private static final long SLAB_FLOATS = 1 << 22;

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
                int i = 0;
                try (Arena arena = Arena.ofShared()) {
                    for (PlannedTensor p : plan.tensors()) {
                        GgufTensorInfo t = src.tensor(p.name());
                        long written = writeTensor(src, t, p, imatrix, w, arena);
                        bytesIn += t.byteSize();
                        bytesOut += written;
                        if (listener != null) {
                            listener.tensorDone(++i, plan.tensors().size(), p, t.byteSize(), written);
                        }
                    }
                }
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

    private static long writeTensor(GgufFile src, GgufTensorInfo t, PlannedTensor p, ImportanceMatrix imatrix, GgufWriter w, Arena arena) {
        MemorySegment data = src.data(t);
        if (!p.converts()) {
            w.writeTensorData(data);
            return t.byteSize();
        }
        RowCodec from = RowCodecs.forType(p.sourceType());
        RowCodec to = RowCodecs.forType(p.targetType());
        int cols = (int) t.rowLength();
        long rows = t.rowCount();
        float[] importance = imatrix == null ? null : imatrix.weightsFor(p.name(), cols);
        long inRowBytes = p.sourceType().byteSize(cols);
        long outRowBytes = p.targetType().byteSize(cols);
        int slabRows = (int) Math.max(1, Math.min(rows, SLAB_FLOATS / cols));
        MemorySegment slab = arena.allocate(outRowBytes * slabRows, 64);
        for (long r0 = 0; r0 < rows; r0 += slabRows) {
            int n = (int) Math.min(slabRows, rows - r0);
            long base = r0;
            Parallel.forRange(n, (long) cols * 64, (a, b) -> {
                float[] buf = new float[cols];
                for (int r = a; r < b; r++) {
                    from.dequantizeRow(data, (base + r) * inRowBytes, buf, 0, cols);
                    to.quantizeRow(buf, 0, cols, slab, r * outRowBytes, importance);
                }
            });
            w.writeTensorData(slab.asSlice(0, n * outRowBytes));
        }
        return rows * outRowBytes;
    }
}
