package io.quant4j.peft;

import io.quant4j.format.ModelFormatException;
import io.quant4j.model.LlamaConfig;
import io.quant4j.model.LlamaWeights;
import io.quant4j.tensor.WeightMatrix;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Puts a PEFT adapter on base weights: LoRA pairs become {@link LoraMatrix} wrappers of the base projections (any
 * stored type), full tensors (modules_to_save) replace the base's, as F32 copies in {@code arena}. q/k rows are
 * moved from Hugging Face's rotate-half order back to GGUF's interleaved order.
 */
public final class AdapterApplier {
    private static final Pattern LAYER_TENSOR = Pattern.compile("model\\.layers\\.(\\d+)\\.(.+)\\.weight");
    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private AdapterApplier() {
    }

    public static LlamaWeights apply(LlamaConfig c, LlamaWeights w, PeftAdapter adapter, Path source, Arena arena) {
        Map<String, AdapterTensor> t = new HashMap<>(adapter.tensors());
        List<LlamaWeights.Layer> layers = new ArrayList<>(w.layers());
        for (int l = 0; l < c.nLayers(); l++) {
            LlamaWeights.Layer layer = layers.get(l);
            for (Projection p : Projection.values()) {
                String module = p.moduleName(l);
                AdapterTensor a = t.remove(module + ".lora_A.weight");
                AdapterTensor b = t.remove(module + ".lora_B.weight");
                AdapterTensor full = t.remove(module + ".weight");
                WeightMatrix base = p.of(layer);
                if ((a == null) != (b == null)) {
                    throw new ModelFormatException(source, module + " has only one of lora_A and lora_B");
                }
                if (a != null && full != null) {
                    throw new ModelFormatException(source, module + " has both LoRA weights and a full copy");
                }
                if (a != null) {
                    layer = p.replace(layer, lora(source, module, base, a, b, p, c, adapter.config()));
                } else if (full != null) {
                    layer = p.replace(layer, matrix(source, module + ".weight", full, base.rows(), base.cols(),
                            p.ropeOrdered() ? c.headDim() : 0, arena));
                }
            }
            String prefix = "model.layers." + l + ".";
            float[] attnNorm = vector(source, t.remove(prefix + "input_layernorm.weight"), layer.attnNorm(), prefix + "input_layernorm.weight");
            float[] ffnNorm = vector(source, t.remove(prefix + "post_attention_layernorm.weight"), layer.ffnNorm(), prefix + "post_attention_layernorm.weight");
            layers.set(l, new LlamaWeights.Layer(attnNorm, layer.attnQ(), layer.attnK(), layer.attnV(), layer.attnOutput(), ffnNorm,
                    layer.ffnGate(), layer.ffnDown(), layer.ffnUp()));
        }
        WeightMatrix embedding = w.tokenEmbedding();
        AdapterTensor e = t.remove("model.embed_tokens.weight");
        if (e != null) {
            embedding = matrix(source, "model.embed_tokens.weight", e, c.vocabSize(), c.dim(), 0, arena);
        }
        WeightMatrix output = w.tiedEmbeddings() ? embedding : w.output();
        AdapterTensor head = t.remove("lm_head.weight");
        if (head != null) {
            output = matrix(source, "lm_head.weight", head, c.vocabSize(), c.dim(), 0, arena);
        }
        float[] norm = vector(source, t.remove("model.norm.weight"), w.outputNorm(), "model.norm.weight");
        if (!t.isEmpty()) {
            String name = t.keySet().stream().sorted().findFirst().orElseThrow();
            Matcher m = LAYER_TENSOR.matcher(name);
            String why = m.matches() && Integer.parseInt(m.group(1)) >= c.nLayers()
                    ? " (the model has layers 0-" + (c.nLayers() - 1) + ")" : " (not a Llama projection, norm, embedding or lm_head)";
            throw new ModelFormatException(source, "adapter tensor '" + PeftAdapter.PREFIX + name + "' does not fit the model" + why);
        }
        return new LlamaWeights(embedding, List.copyOf(layers), norm, output);
    }

    private static WeightMatrix lora(Path source, String module, WeightMatrix base, AdapterTensor a, AdapterTensor b, Projection p,
                                     LlamaConfig c, PeftConfig config) {
        int r = a.rows();
        if (a.cols() != base.cols() || b.rows() != base.rows() || b.cols() != r) {
            throw new ModelFormatException(source, module + ": lora_A " + a.rows() + "x" + a.cols() + " and lora_B " + b.rows() + "x"
                    + b.cols() + " do not fit a " + base.rows() + "x" + base.cols() + " weight");
        }
        if (r != config.r()) {
            throw new ModelFormatException(source, module + " has rank " + r + " but adapter_config.json says r = " + config.r());
        }
        float[] bRows = b.values();
        if (p.ropeOrdered()) {
            bRows = new float[bRows.length];
            for (int row = 0; row < b.rows(); row++) {
                System.arraycopy(b.values(), RopeRowOrder.hfRow(row, c.headDim()) * r, bRows, row * r, r);
            }
        }
        return new LoraMatrix(base, a.values(), bRows, r, config.scaling());
    }

    /** A full replacement as an F32 matrix; {@code headDim} > 0 reorders rows from HF's rotate-half layout. */
    private static WeightMatrix matrix(Path source, String name, AdapterTensor t, int rows, int cols, int headDim, Arena arena) {
        if (t.rows() != rows || t.cols() != cols) {
            throw new ModelFormatException(source, name + " is " + t.rows() + "x" + t.cols() + ", the model's is " + rows + "x" + cols);
        }
        MemorySegment seg = arena.allocate(4L * rows * cols, 64);
        for (int r = 0; r < rows; r++) {
            int from = headDim > 0 ? RopeRowOrder.hfRow(r, headDim) : r;
            MemorySegment.copy(t.values(), from * cols, seg, F32, 4L * r * cols, cols);
        }
        return WeightMatrix.of(io.quant4j.tensor.GgmlType.F32, seg, rows, cols);
    }

    private static float[] vector(Path source, AdapterTensor t, float[] base, String name) {
        if (t == null) {
            return base;
        }
        if (t.values().length != base.length) {
            throw new ModelFormatException(source, name + " has " + t.values().length + " values, the model's has " + base.length);
        }
        return t.values().clone();
    }
}
