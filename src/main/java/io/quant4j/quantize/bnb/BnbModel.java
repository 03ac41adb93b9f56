package io.quant4j.quantize.bnb;

import io.quant4j.model.LlamaConfig;
import io.quant4j.model.LlamaWeights;
import io.quant4j.model.ModelWeights;
import io.quant4j.model.RopeRowOrder;
import io.quant4j.tensor.GgmlType;
import io.quant4j.tensor.Parallel;
import io.quant4j.tensor.WeightMatrix;

import java.lang.foreign.Arena;
import java.util.ArrayList;
import java.util.List;

/**
 * transformers' {@code from_pretrained(..., quantization_config=BitsAndBytesConfig(...))} on the CPU: the seven
 * projections of every block are quantized as the model is loaded; embeddings, norms and lm_head stay as they are
 * (lm_head is in transformers' default skip list). The weights are quantized in Hugging Face's row order (q/k blocks
 * as a saved bitsandbytes checkpoint has them) and read through a row map in quant4j's order.
 */
public final class BnbModel {
    private BnbModel() {
    }

    public static ModelWeights quantize(ModelWeights source, BnbOptions o) {
        LlamaConfig c = source.config();
        Arena arena = Arena.ofShared();
        try {
            List<LlamaWeights.Layer> layers = new ArrayList<>();
            for (int l = 0; l < c.nLayers(); l++) {
                LlamaWeights.Layer s = source.weights().layers().get(l);
                String p = "blk." + l + ".";
                layers.add(new LlamaWeights.Layer(s.attnNorm(),
                        convert(p + "attn_q", s.attnQ(), c.nHeads(), c.headDim(), o, arena),
                        convert(p + "attn_k", s.attnK(), c.nKvHeads(), c.headDim(), o, arena),
                        convert(p + "attn_v", s.attnV(), 0, 0, o, arena),
                        convert(p + "attn_output", s.attnOutput(), 0, 0, o, arena),
                        s.ffnNorm(),
                        convert(p + "ffn_gate", s.ffnGate(), 0, 0, o, arena),
                        convert(p + "ffn_down", s.ffnDown(), 0, 0, o, arena),
                        convert(p + "ffn_up", s.ffnUp(), 0, 0, o, arena)));
            }
            LlamaWeights w = source.weights();
            LlamaWeights quantized = new LlamaWeights(w.tokenEmbedding(), List.copyOf(layers), w.outputNorm(), w.output());
            List<AutoCloseable> resources = new ArrayList<>(source.resources());
            resources.add(arena);
            return new ModelWeights(source.format() + ", bitsandbytes " + o.describe() + " at load", c, quantized,
                    source.metadata(), source.tensors(), List.copyOf(resources));
        } catch (RuntimeException e) {
            arena.close();
            throw e;
        }
    }

    /** One projection; heads > 0 marks q/k, quantized in Hugging Face's rotate-half row order. */
    private static WeightMatrix convert(String name, WeightMatrix m, int heads, int headDim, BnbOptions o, Arena arena) {
        GgmlType t = m.type();
        if (t != GgmlType.F32 && t != GgmlType.F16 && t != GgmlType.BF16) {
            throw new IllegalArgumentException("bitsandbytes quantization needs F32/F16/BF16 weights; " + name + " is "
                    + m.format() + " (quantize an unquantized model)");
        }
        int rows = m.rows();
        int cols = m.cols();
        int[] storedFrom = heads > 0 ? RopeRowOrder.ggufRowOfHfRow(heads, headDim) : null;
        int[] rowOf = heads > 0 ? RopeRowOrder.hfRowOfGgufRow(heads, headDim) : null;
        float[] w = new float[Math.multiplyExact(rows, cols)];
        Parallel.forRange(rows, cols, (from, to) -> {
            for (int r = from; r < to; r++) {
                m.dequantizeRow(storedFrom == null ? r : storedFrom[r], w, r * cols);
            }
        });
        return o.mode() == BnbOptions.Mode.INT8
                ? BnbQuantizer.int8(w, rows, cols, o.threshold(), rowOf, arena)
                : BnbQuantizer.fourBit(w, rows, cols, o, rowOf, arena);
    }
}
