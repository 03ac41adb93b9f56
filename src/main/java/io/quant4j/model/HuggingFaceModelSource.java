package io.quant4j.model;

import io.quant4j.format.ModelFormatException;
import io.quant4j.format.safetensors.SafetensorsCheckpoint;
import io.quant4j.format.safetensors.SafetensorsFile;
import io.quant4j.format.safetensors.SafetensorsTensorInfo;
import io.quant4j.tensor.GgmlType;
import io.quant4j.tensor.WeightMatrix;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static io.quant4j.format.ModelFormatException.quote;

/**
 * Builds {@link ModelWeights} from a Hugging Face {@code LlamaForCausalLM} folder: config.json plus
 * model.safetensors or a sharded index. Weights stay in the mapped files except q_proj/k_proj, whose rows HF
 * stores in "rotate-half" order: those are copied, rows reordered to GGUF's interleaved-pair order, into an
 * off-heap arena that is closed with the model.
 */
public final class HuggingFaceModelSource {
    private static final String FORMAT = "Hugging Face safetensors";

    private HuggingFaceModelSource() {
    }

    public static ModelWeights load(Path dir) {
        if (!Files.isDirectory(dir)) {
            throw new ModelFormatException(dir, Files.exists(dir) ? "is not a Hugging Face model folder" : "no such file or directory");
        }
        HuggingFaceConfig hf = HuggingFaceConfig.read(dir.resolve(HuggingFaceConfig.FILE_NAME));
        if (GptqModelSource.isGptq(dir, hf)) {
            return GptqModelSource.load(dir, hf);
        }
        if (BnbModelSource.isBnb(hf)) {
            return BnbModelSource.load(dir, hf);
        }
        SafetensorsCheckpoint ckpt = SafetensorsCheckpoint.openFolder(dir);
        Arena permuted = Arena.ofShared();
        try {
            LlamaWeights weights = weights(ckpt, hf, permuted);
            String format = ckpt.files().size() > 1 ? FORMAT + " (" + ckpt.files().size() + " shards)" : FORMAT;
            Map<String, String> metadata = new LinkedHashMap<>(hf.display());
            metadata.putAll(metadataOf(ckpt));
            return new ModelWeights(format, hf.config(), weights, metadata, tensorTable(ckpt), List.of(ckpt, permuted));
        } catch (RuntimeException e) {
            permuted.close();
            ckpt.close();
            throw e;
        }
    }

    private static LlamaWeights weights(SafetensorsCheckpoint ckpt, HuggingFaceConfig hf, Arena permuted) {
        LlamaConfig c = hf.config();
        refuseBiases(ckpt);
        List<LlamaWeights.Layer> layers = new ArrayList<>();
        for (int i = 0; i < c.nLayers(); i++) {
            String p = "model.layers." + i + ".";
            layers.add(new LlamaWeights.Layer(
                    vector(ckpt, p + "input_layernorm.weight", c.dim()),
                    ropeInterleaved(ckpt, p + "self_attn.q_proj.weight", c.nHeads(), c.headDim(), c.dim(), permuted),
                    ropeInterleaved(ckpt, p + "self_attn.k_proj.weight", c.nKvHeads(), c.headDim(), c.dim(), permuted),
                    matrix(ckpt, p + "self_attn.v_proj.weight", c.kvDim(), c.dim()),
                    matrix(ckpt, p + "self_attn.o_proj.weight", c.dim(), c.qDim()),
                    vector(ckpt, p + "post_attention_layernorm.weight", c.dim()),
                    matrix(ckpt, p + "mlp.gate_proj.weight", c.hiddenDim(), c.dim()),
                    matrix(ckpt, p + "mlp.down_proj.weight", c.dim(), c.hiddenDim()),
                    matrix(ckpt, p + "mlp.up_proj.weight", c.hiddenDim(), c.dim())));
        }
        WeightMatrix embedding = matrix(ckpt, "model.embed_tokens.weight", c.vocabSize(), c.dim());
        // With tied embeddings transformers ignores any stored lm_head (it is the embedding), and so do we.
        WeightMatrix output = hf.tieWordEmbeddings() ? embedding : matrix(ckpt, "lm_head.weight", c.vocabSize(), c.dim());
        return new LlamaWeights(embedding, List.copyOf(layers), vector(ckpt, "model.norm.weight", c.dim()), output);
    }

    /** Biases would be silently ignored by the forward pass, so a checkpoint that has them is refused. */
    static void refuseBiases(SafetensorsCheckpoint ckpt) {
        for (String name : ckpt.names()) {
            if (name.startsWith("model.layers.") && name.endsWith("_proj.bias")) {
                throw new ModelFormatException(ckpt.fileOf(name).path(), "tensor " + quote(name) + " is a bias; quant4j's Llama has no bias terms");
            }
        }
    }

    /** The tensor checked to be a 2-D F32/F16/BF16 [rows, cols] weight. */
    static SafetensorsTensorInfo checked(SafetensorsFile f, String name, long... expectedShape) {
        SafetensorsTensorInfo t = f.tensor(name);
        if (!Arrays.equals(t.shape(), expectedShape)) {
            throw new ModelFormatException(f.path(), "tensor " + quote(name) + " has shape " + t.shapeString() + ", expected " + Arrays.toString(expectedShape));
        }
        if (t.dtype().ggmlType().isEmpty()) {
            throw new ModelFormatException(f.path(), "tensor " + quote(name) + " has dtype " + t.dtype() + ", expected F32, F16 or BF16");
        }
        return t;
    }

    static WeightMatrix matrix(SafetensorsCheckpoint ckpt, String name, int rows, int cols) {
        SafetensorsFile f = ckpt.fileOf(name);
        SafetensorsTensorInfo t = checked(f, name, rows, cols);
        return WeightMatrix.of(t.dtype().ggmlType().orElseThrow(), f.data(t), rows, cols);
    }

    /**
     * q_proj/k_proj with rows reordered from HF's rotate-half layout to GGUF's interleaved pairs. Within each head
     * HF keeps the first halves of all rotary pairs, then the second halves: HF row (h, j·half + i) is GGUF row
     * (h, 2i + j). This is the inverse of the permutation transformers' conversion script applies, and what
     * llama.cpp's converter computes with reshape(n_head, 2, rows/n_head/2, cols).swapaxes(1, 2).
     */
    static WeightMatrix ropeInterleaved(SafetensorsCheckpoint ckpt, String name, int heads, int headDim, int cols, Arena arena) {
        SafetensorsFile f = ckpt.fileOf(name);
        int rows = heads * headDim;
        SafetensorsTensorInfo t = checked(f, name, rows, cols);
        GgmlType type = t.dtype().ggmlType().orElseThrow();
        MemorySegment src = f.data(t);
        MemorySegment dst = arena.allocate(t.byteSize(), 64);
        long rowBytes = type.byteSize(cols);
        int half = headDim / 2;
        for (int h = 0; h < heads; h++) {
            for (int i = 0; i < half; i++) {
                for (int j = 0; j < 2; j++) {
                    long from = (long) h * headDim + (long) j * half + i;
                    long to = (long) h * headDim + 2L * i + j;
                    MemorySegment.copy(src, from * rowBytes, dst, to * rowBytes, rowBytes);
                }
            }
        }
        return WeightMatrix.of(type, dst, rows, cols);
    }

    /** A 1-D norm weight of length n as floats (tiny; copied to the heap). */
    static float[] vector(SafetensorsCheckpoint ckpt, String name, int n) {
        SafetensorsFile f = ckpt.fileOf(name);
        SafetensorsTensorInfo t = checked(f, name, n);
        float[] out = new float[n];
        GgmlType type = t.dtype().ggmlType().orElseThrow();
        if (type == GgmlType.F32) {
            MemorySegment.copy(f.data(t), ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), 0, out, 0, n);
        } else {
            WeightMatrix.of(type, f.data(t), 1, n).dequantizeRow(0, out, 0);
        }
        return out;
    }

    static List<TensorEntry> tensorTable(SafetensorsCheckpoint ckpt) {
        List<TensorEntry> out = new ArrayList<>();
        for (String name : ckpt.names()) {
            SafetensorsTensorInfo t = ckpt.tensor(name);
            out.add(new TensorEntry(name, t.shape(), t.dtype().name(), t.byteSize()));
        }
        return out;
    }

    /** The checkpoint's own {@code __metadata__} strings, prefixed so they cannot collide with config keys. */
    static Map<String, String> metadataOf(SafetensorsCheckpoint ckpt) {
        Map<String, String> out = new LinkedHashMap<>();
        for (SafetensorsFile f : ckpt.files()) {
            f.metadata().forEach((k, v) -> out.put("safetensors." + k, v));
        }
        return out;
    }
}
