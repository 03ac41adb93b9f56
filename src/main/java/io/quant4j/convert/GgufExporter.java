package io.quant4j.convert;

import io.quant4j.format.gguf.GgufValue;
import io.quant4j.format.gguf.GgufWriter;
import io.quant4j.model.LlamaConfig;
import io.quant4j.model.LlamaWeights;
import io.quant4j.model.RopeScaling;
import io.quant4j.peft.LoraMatrix;
import io.quant4j.quantize.FileType;
import io.quant4j.runtime.LoadedModel;
import io.quant4j.tensor.Fp16;
import io.quant4j.tensor.GgmlType;
import io.quant4j.tensor.WeightMatrix;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Writes any loaded model (GGUF, Hugging Face folder, llama2.c) as a llama.cpp-compatible GGUF v3 with
 * llama.cpp's key and tensor names, streaming one row at a time. Every weight keeps its stored type (quantized
 * tensors are copied byte for byte); a LoRA-adapted matrix is written merged, row by row, in F32 unless another
 * float type is asked for. q/k rows are already in GGUF's layout in {@link LlamaWeights}.
 */
public final class GgufExporter {
    private GgufExporter() {
    }

    public static void export(Path in, Path tokenizer, Path out) {
        try (LoadedModel model = LoadedModel.load(in, tokenizer)) {
            write(model, out);
        }
    }

    public static void write(LoadedModel model, Path out) {
        write(model, out, GgmlType.F32);
    }

    /** As {@link #write(LoadedModel, Path)}, LoRA-merged matrices stored as {@code mergedType} (F32, F16 or BF16). */
    public static void write(LoadedModel model, Path out, GgmlType mergedType) {
        if (mergedType != GgmlType.F32 && mergedType != GgmlType.F16 && mergedType != GgmlType.BF16) {
            throw new IllegalArgumentException("merged tensors can be F32, F16 or BF16, not " + mergedType);
        }
        LlamaConfig c = model.weights().config();
        LlamaWeights w = model.weights().weights();
        try (GgufWriter g = new GgufWriter(out)) {
            g.putString("general.architecture", "llama");
            String name = model.path().getFileName() == null ? "model" : model.path().getFileName().toString();
            g.putString("general.name", name.replaceAll("\\.(gguf|bin)$", ""));
            g.putUint32("llama.context_length", c.contextLength());
            g.putUint32("llama.embedding_length", c.dim());
            g.putUint32("llama.block_count", c.nLayers());
            g.putUint32("llama.feed_forward_length", c.hiddenDim());
            g.putUint32("llama.rope.dimension_count", c.ropeDim());
            g.putUint32("llama.attention.head_count", c.nHeads());
            g.putUint32("llama.attention.head_count_kv", c.nKvHeads());
            if (c.headDim() != c.dim() / c.nHeads()) {
                g.putUint32("llama.attention.key_length", c.headDim());
                g.putUint32("llama.attention.value_length", c.headDim());
            }
            g.putFloat32("llama.attention.layer_norm_rms_epsilon", c.rmsNormEps());
            g.putFloat32("llama.rope.freq_base", c.ropeTheta());
            if (c.ropeScaling().kind() == RopeScaling.Kind.LINEAR) {
                g.putString("llama.rope.scaling.type", "linear");
                g.putFloat32("llama.rope.scaling.factor", c.ropeScaling().factor());
            }
            g.putUint32("llama.vocab_size", c.vocabSize());
            g.putUint32("general.file_type", fileTypeOf(w, mergedType));
            for (Map.Entry<String, GgufValue> e : model.tokenizer().ggufMetadata().entrySet()) {
                g.put(e.getKey(), e.getValue());
            }

            Map<String, Object> tensors = new LinkedHashMap<>();
            tensors.put("token_embd.weight", w.tokenEmbedding());
            tensors.put("output_norm.weight", w.outputNorm());
            if (!w.tiedEmbeddings()) {
                tensors.put("output.weight", w.output());
            }
            if (c.ropeFreqFactors() != null) {
                tensors.put("rope_freqs.weight", c.ropeFreqFactors());
            }
            for (int i = 0; i < c.nLayers(); i++) {
                LlamaWeights.Layer l = w.layers().get(i);
                String p = "blk." + i + ".";
                tensors.put(p + "attn_norm.weight", l.attnNorm());
                tensors.put(p + "attn_q.weight", l.attnQ());
                tensors.put(p + "attn_k.weight", l.attnK());
                tensors.put(p + "attn_v.weight", l.attnV());
                tensors.put(p + "attn_output.weight", l.attnOutput());
                tensors.put(p + "ffn_norm.weight", l.ffnNorm());
                tensors.put(p + "ffn_gate.weight", l.ffnGate());
                tensors.put(p + "ffn_down.weight", l.ffnDown());
                tensors.put(p + "ffn_up.weight", l.ffnUp());
            }
            for (Map.Entry<String, Object> e : tensors.entrySet()) {
                if (e.getValue() instanceof WeightMatrix m) {
                    g.addTensor(e.getKey(), new long[] {m.cols(), m.rows()}, storedType(m, mergedType));
                } else {
                    g.addTensor(e.getKey(), new long[] {((float[]) e.getValue()).length}, GgmlType.F32);
                }
            }
            g.writeHeader();
            for (Object t : tensors.values()) {
                if (t instanceof WeightMatrix m) {
                    writeMatrix(g, m, mergedType);
                } else {
                    float[] v = (float[]) t;
                    ByteBuffer b = ByteBuffer.allocate(4 * v.length).order(ByteOrder.LITTLE_ENDIAN);
                    b.asFloatBuffer().put(v);
                    g.writeTensorData(b);
                }
            }
            g.finish();
        }
    }

    /** general.file_type: the llama.cpp file type of the most common stored type of the layer matrices. */
    private static int fileTypeOf(LlamaWeights w, GgmlType mergedType) {
        Map<GgmlType, Long> counts = new java.util.EnumMap<>(GgmlType.class);
        for (LlamaWeights.Layer l : w.layers()) {
            for (WeightMatrix m : l.matrices()) {
                counts.merge(storedType(m, mergedType), (long) m.rows() * m.cols(), Long::sum);
            }
        }
        GgmlType t = counts.entrySet().stream().max(Map.Entry.comparingByValue()).map(Map.Entry::getKey).orElse(GgmlType.F32);
        for (FileType f : FileType.values()) {
            if (f.baseType == t) {
                return f.id;
            }
        }
        return 0;
    }

    /** LoRA-merged matrices take the asked type; layouts outside ggml (GPTQ, bitsandbytes) are written as F32. */
    static GgmlType storedType(WeightMatrix m, GgmlType mergedType) {
        if (m instanceof LoraMatrix) {
            return mergedType;
        }
        return m.type() != null ? m.type() : GgmlType.F32;
    }

    private static void writeMatrix(GgufWriter g, WeightMatrix m, GgmlType mergedType) {
        GgmlType t = storedType(m, mergedType);
        if (t.isQuantized()) {
            g.writeTensorData(m.data().asSlice(0, m.rowBytes() * m.rows()));
            return;
        }
        int cols = m.cols();
        float[] row = new float[cols];
        ByteBuffer b = ByteBuffer.allocate(cols * (t == GgmlType.F32 ? 4 : 2)).order(ByteOrder.LITTLE_ENDIAN);
        for (int r = 0; r < m.rows(); r++) {
            m.dequantizeRow(r, row, 0);
            b.clear();
            for (float v : row) {
                switch (t) {
                    case F16 -> b.putShort(Fp16.fromFloat(v));
                    case BF16 -> b.putShort(Fp16.floatToBf16(v));
                    default -> b.putFloat(v);
                }
            }
            b.flip();
            g.writeTensorData(b);
        }
    }
}
