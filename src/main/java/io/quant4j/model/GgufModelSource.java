package io.quant4j.model;

import io.quant4j.format.ModelFormatException;
import io.quant4j.format.gguf.GgufFile;
import io.quant4j.format.gguf.GgufMetadata;
import io.quant4j.format.gguf.GgufTensorInfo;
import io.quant4j.format.gguf.GgufValue;
import io.quant4j.format.gguf.GgufValueType;
import io.quant4j.tensor.GgmlType;
import io.quant4j.tensor.UnsupportedTensorTypeException;
import io.quant4j.tensor.WeightMatrix;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static io.quant4j.format.ModelFormatException.quote;

/** Builds {@link ModelWeights} from a GGUF file with llama.cpp's key and tensor names. */
public final class GgufModelSource {
    private static final Set<String> ARCHITECTURES = Set.of("llama");

    private GgufModelSource() {
    }

    public static ModelWeights load(GgufFile gguf) {
        Path path = gguf.path();
        GgufMetadata md = gguf.metadata();
        String arch = md.getString("general.architecture");
        if (!ARCHITECTURES.contains(arch)) {
            throw new ModelFormatException(path, "architecture " + quote(arch) + " is not supported (quant4j runs: " + ARCHITECTURES + ")");
        }
        LlamaConfig config = config(gguf, arch);
        List<LlamaWeights.Layer> layers = new ArrayList<>();
        for (int i = 0; i < config.nLayers(); i++) {
            String p = "blk." + i + ".";
            layers.add(new LlamaWeights.Layer(
                    vector(gguf, p + "attn_norm.weight", config.dim()),
                    matrix(gguf, p + "attn_q.weight", config.qDim(), config.dim()),
                    matrix(gguf, p + "attn_k.weight", config.kvDim(), config.dim()),
                    matrix(gguf, p + "attn_v.weight", config.kvDim(), config.dim()),
                    matrix(gguf, p + "attn_output.weight", config.dim(), config.qDim()),
                    vector(gguf, p + "ffn_norm.weight", config.dim()),
                    matrix(gguf, p + "ffn_gate.weight", config.hiddenDim(), config.dim()),
                    matrix(gguf, p + "ffn_down.weight", config.dim(), config.hiddenDim()),
                    matrix(gguf, p + "ffn_up.weight", config.hiddenDim(), config.dim())));
        }
        WeightMatrix embedding = matrix(gguf, "token_embd.weight", config.vocabSize(), config.dim());
        WeightMatrix output = gguf.hasTensor("output.weight")
                ? matrix(gguf, "output.weight", config.vocabSize(), config.dim())
                : embedding;
        LlamaWeights weights = new LlamaWeights(embedding, List.copyOf(layers), vector(gguf, "output_norm.weight", config.dim()), output);
        return new ModelWeights("GGUF v" + gguf.version(), config, weights, displayMetadata(md), tensorTable(gguf), List.of(gguf));
    }

    /** The hyper-parameters of a GGUF model without wrapping its weights (quantize, inspect). */
    public static LlamaConfig configOf(GgufFile gguf) {
        String arch = gguf.metadata().getString("general.architecture");
        if (!ARCHITECTURES.contains(arch)) {
            throw new ModelFormatException(gguf.path(), "architecture '" + arch + "' is not supported (quant4j runs: " + ARCHITECTURES + ")");
        }
        return config(gguf, arch);
    }

    static LlamaConfig config(GgufFile gguf, String arch) {
        GgufMetadata md = gguf.metadata();
        String a = arch + ".";
        int max = 1 << 24;
        int dim = md.getInt(a + "embedding_length", 1, max);
        int heads = md.getInt(a + "attention.head_count", 1, 1 << 12);
        int kvHeads = md.findInt(a + "attention.head_count_kv", 1, 1 << 12).orElse(heads);
        int headDim = md.findInt(a + "attention.key_length", 1, 1 << 14).orElse(dim / heads);
        int vocab;
        if (md.contains(a + "vocab_size")) {
            vocab = md.getInt(a + "vocab_size", 1, 1 << 24);
        } else {
            GgufTensorInfo embd = gguf.tensor("token_embd.weight");
            if (embd.shape().length != 2 || embd.shape()[1] > (1 << 24)) {
                throw new ModelFormatException(gguf.path(), "tensor 'token_embd.weight' has shape " + embd.shapeString() + ", expected [dim, vocab]");
            }
            vocab = (int) embd.shape()[1];
        }
        RopeScaling scaling = RopeScaling.NONE;
        String scalingType = md.findString(a + "rope.scaling.type").orElse("none");
        float factor = md.findFloat(a + "rope.scaling.factor").orElse(1f);
        if (scalingType.equals("linear") && factor > 0 && factor != 1f) {
            scaling = RopeScaling.linear(factor);
        } else if (!scalingType.equals("none") && !scalingType.equals("linear")) {
            throw new ModelFormatException(gguf.path(), "rope scaling type " + quote(scalingType) + " is not supported");
        }
        int ropeDim = md.findInt(a + "rope.dimension_count", 2, 1 << 14).orElse(headDim);
        float[] freqFactors = null;
        if (gguf.hasTensor("rope_freqs.weight")) {
            freqFactors = vector(gguf, "rope_freqs.weight", ropeDim / 2);
        }
        try {
            return new LlamaConfig(arch, dim,
                    md.getInt(a + "feed_forward_length", 1, max),
                    md.getInt(a + "block_count", 1, 1 << 12),
                    heads, kvHeads, headDim, vocab,
                    md.getInt(a + "context_length", 1, 1 << 24),
                    md.getFloat(a + "attention.layer_norm_rms_epsilon"),
                    md.findFloat(a + "rope.freq_base").orElse(10000f),
                    ropeDim, scaling, freqFactors);
        } catch (IllegalArgumentException e) {
            throw new ModelFormatException(gguf.path(), "bad hyper-parameters: " + e.getMessage());
        }
    }

    /** A 2-D weight that must be [rows × cols] (ggml shape [cols, rows]). */
    static WeightMatrix matrix(GgufFile gguf, String name, int rows, int cols) {
        GgufTensorInfo t = gguf.tensor(name);
        long[] s = t.shape();
        if (s.length != 2 || s[0] != cols || s[1] != rows) {
            throw new ModelFormatException(gguf.path(), "tensor " + quote(name) + " has shape " + t.shapeString()
                    + ", expected [" + cols + ", " + rows + "]");
        }
        try {
            return WeightMatrix.of(t.type(), gguf.data(t), rows, cols);
        } catch (UnsupportedTensorTypeException e) {
            throw new ModelFormatException(gguf.path(), "tensor " + quote(name) + " has type " + t.type() + ", which quant4j cannot compute with yet");
        }
    }

    /** A 1-D F32 (or F16) vector of length n, copied to the heap (norm weights are tiny). */
    static float[] vector(GgufFile gguf, String name, int n) {
        GgufTensorInfo t = gguf.tensor(name);
        if (t.elementCount() != n) {
            throw new ModelFormatException(gguf.path(), "tensor " + quote(name) + " has shape " + t.shapeString() + ", expected [" + n + "]");
        }
        MemorySegment seg = gguf.data(t);
        float[] out = new float[n];
        if (t.type() == GgmlType.F32) {
            MemorySegment.copy(seg, ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), 0, out, 0, n);
        } else if (t.type() == GgmlType.F16 || t.type() == GgmlType.BF16) {
            WeightMatrix.of(t.type(), seg, 1, n).dequantizeRow(0, out, 0);
        } else {
            throw new ModelFormatException(gguf.path(), "tensor " + quote(name) + " has type " + t.type() + ", expected F32");
        }
        return out;
    }

    static Map<String, String> displayMetadata(GgufMetadata md) {
        Map<String, String> out = new LinkedHashMap<>();
        for (Map.Entry<String, GgufValue> e : md.asMap().entrySet()) {
            GgufValue v = e.getValue();
            String s = v.toString();
            if (v.type() == GgufValueType.STRING && s.length() > 80) {
                s = s.substring(0, 77).replace("\n", "\\n") + "...\"";
            }
            out.put(e.getKey(), s.replace("\n", "\\n"));
        }
        return out;
    }

    static List<TensorEntry> tensorTable(GgufFile gguf) {
        List<TensorEntry> out = new ArrayList<>();
        for (GgufTensorInfo t : gguf.tensors().values()) {
            out.add(new TensorEntry(t.name(), t.shape(), t.type().name(), t.byteSize()));
        }
        return out;
    }
}
