package io.quant4j.convert;

import io.quant4j.format.gguf.GgufFile;
import io.quant4j.format.gguf.GgufTensorInfo;
import io.quant4j.model.LlamaWeights;
import io.quant4j.quantize.FileType;
import io.quant4j.quantize.GgufQuantizer;
import io.quant4j.quantize.QuantizeOptions;
import io.quant4j.runtime.LoadedModel;
import io.quant4j.tensor.GgmlType;
import io.quant4j.tensor.WeightMatrix;
import io.quant4j.tensor.gptq.GptqMatrix;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A GPTQ (or any loadable) checkpoint to GGUF — what llama.cpp cannot do (its issue #10965). The model is written as
 * an F32 GGUF with the GPTQ weights dequantized exactly (fp16 scale × integer, representable in F32), then quantized
 * to the requested file type with quant4j's llama-quantize. Projections whose GPTQ blocks are already ggml blocks —
 * 4-bit (→ Q4_0) or 8-bit (→ Q8_0), symmetric, no act-order reordering, groups of whole 32-column blocks — are then
 * overwritten with the GPTQ scales and codes themselves, so they keep exactly the checkpoint's weights.
 */
public final class GptqToGguf {
    /** What was written: tensors copied code for code from GPTQ, and the rest requantized. */
    public record Result(int exactTensors, int requantizedTensors, long bytes) {
    }

    private GptqToGguf() {
    }

    public static Result convert(LoadedModel model, Path out, FileType type, boolean pure) throws IOException {
        Path tmp = Files.createTempFile(out.toAbsolutePath().getParent(), "." + out.getFileName(), ".f32.gguf");
        try {
            GgufExporter.write(model, tmp);
            if (type == FileType.F32) {
                Files.move(tmp, out, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
                return new Result(0, 0, Files.size(out));
            }
            GgufQuantizer.quantize(tmp, out, QuantizeOptions.of(type).withPure(pure), null, null);
        } finally {
            Files.deleteIfExists(tmp);
        }
        Map<String, GptqMatrix> gptq = new LinkedHashMap<>();
        for (int l = 0; l < model.weights().config().nLayers(); l++) {
            LlamaWeights.Layer layer = model.weights().weights().layers().get(l);
            String p = "blk." + l + ".";
            put(gptq, p + "attn_q.weight", layer.attnQ());
            put(gptq, p + "attn_k.weight", layer.attnK());
            put(gptq, p + "attn_v.weight", layer.attnV());
            put(gptq, p + "attn_output.weight", layer.attnOutput());
            put(gptq, p + "ffn_gate.weight", layer.ffnGate());
            put(gptq, p + "ffn_down.weight", layer.ffnDown());
            put(gptq, p + "ffn_up.weight", layer.ffnUp());
        }
        int exact = 0;
        int requantized = 0;
        Map<String, GgufTensorInfo> targets = new LinkedHashMap<>();
        try (GgufFile written = GgufFile.open(out)) {
            for (Map.Entry<String, GptqMatrix> e : gptq.entrySet()) {
                GgufTensorInfo t = written.tensor(e.getKey());
                if ((t.type() == GgmlType.Q4_0 || t.type() == GgmlType.Q8_0) && e.getValue().mapsExactlyOnto(t.type())) {
                    targets.put(e.getKey(), t);
                } else {
                    requantized++;
                }
            }
        }
        if (!targets.isEmpty()) {
            try (FileChannel ch = FileChannel.open(out, StandardOpenOption.READ, StandardOpenOption.WRITE);
                 Arena arena = Arena.ofConfined()) {
                MemorySegment file = ch.map(FileChannel.MapMode.READ_WRITE, 0, ch.size(), arena);
                for (Map.Entry<String, GgufTensorInfo> e : targets.entrySet()) {
                    GptqMatrix m = gptq.get(e.getKey());
                    GgufTensorInfo t = e.getValue();
                    long rowBytes = t.type().byteSize(m.cols());
                    for (int r = 0; r < m.rows(); r++) {
                        m.writeGgmlRow(t.type(), r, file, t.offset() + r * rowBytes);
                    }
                    exact++;
                }
                file.force();
            }
        }
        return new Result(exact, requantized, Files.size(out));
    }

    private static void put(Map<String, GptqMatrix> out, String name, WeightMatrix m) {
        if (m instanceof GptqMatrix g) {
            out.put(name, g);
        }
    }
}
