package io.quant4j.quantize;

import io.quant4j.tensor.GgmlType;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Decides the type of every tensor of a quantized file, as llama-quantize does: which tensors are quantized
 * at all (2-D weights, not norms), the mix rules of {@link TensorTypeRules} unless {@code --pure}, the user's
 * overrides, the fallbacks for indivisible rows, and quant4j's partial quantization. Tensors come out in
 * llama.cpp's order (non-layer tensors by name, then layer by layer, by name within a layer), which is also
 * the order its counters see.
 */
public final class QuantizationPlanner {
    private static final Pattern LAYER = Pattern.compile("^blk\\.(\\d+)\\.");

    /** A tensor of the input file. */
    public record SourceTensor(String name, long[] shape, GgmlType type) {
    }

    /** The plan: tensors in output order, plus how many needed a fallback type. */
    public record Plan(List<PlannedTensor> tensors, int fallbacks) {
    }

    private QuantizationPlanner() {
    }

    public static int layerOf(String name) {
        Matcher m = LAYER.matcher(name);
        return m.find() ? Integer.parseInt(m.group(1)) : -1;
    }

    /** llama.cpp's weight_name_comparer: layer number first (non-layer tensors first), then name. */
    public static final Comparator<String> LLAMA_CPP_ORDER =
            Comparator.<String>comparingInt(QuantizationPlanner::layerOf).thenComparing(Comparator.naturalOrder());

    public static Plan plan(List<SourceTensor> sources, int nLayers, int nHeads, int nKvHeads, QuantizeOptions o) {
        List<SourceTensor> ordered = new ArrayList<>(sources);
        ordered.sort(Comparator.comparing(SourceTensor::name, LLAMA_CPP_ORDER));
        boolean hasOutput = ordered.stream().anyMatch(t -> t.name().equals("output.weight"));
        int nAttentionV = (int) ordered.stream().filter(t -> t.name().contains("attn_v.weight") || t.name().contains("attn_qkv.weight")).count();
        if (o.layers() != null) {
            o.layers().validate(nLayers);
        }
        TensorTypeRules rules = new TensorTypeRules(o.fileType(), nLayers, nHeads / Math.max(1, nKvHeads), hasOutput, o.hasImatrix(), nAttentionV);
        List<PlannedTensor> out = new ArrayList<>();
        int fallbacks = 0;
        for (SourceTensor s : ordered) {
            GgmlType target = s.type();
            boolean fallback = false;
            if (isQuantizable(s, o)) {
                target = o.fileType().baseType;
                if (!o.pure() && target.isQuantized()) {
                    target = rules.choose(s.name(), s.shape()[0], o.outputTensorType());
                }
                if (o.tokenEmbeddingType() != null && s.name().equals("token_embd.weight")) {
                    target = o.tokenEmbeddingType();
                }
                if (o.outputTensorType() != null && s.name().equals("output.weight")) {
                    target = o.outputTensorType();
                }
                GgmlType fitted = TensorTypeRules.fallback(target, s.shape()[0]);
                if (fitted == null) {
                    throw new IllegalArgumentException("tensor '" + s.name() + "' has rows of " + s.shape()[0]
                            + " values, not a multiple of the " + target + " block size " + target.blockSize + ", and " + target + " has no fallback type");
                }
                if (fitted != target) {
                    fallback = true;
                    target = fitted;
                }
                if (o.layers() != null && !inSelectedLayers(s.name(), o.layers())) {
                    target = s.type();
                    fallback = false;
                }
                if (fallback) {
                    fallbacks++; // only tensors that are actually converted to their fallback type
                }
                if (target != s.type() && s.type().isQuantized() && !o.allowRequantize()) {
                    throw new IllegalArgumentException("tensor '" + s.name() + "' is already " + s.type()
                            + "; requantizing loses quality (pass --allow-requantize to do it anyway)");
                }
            }
            out.add(new PlannedTensor(s.name(), s.shape(), s.type(), target, fallback));
        }
        return new Plan(List.copyOf(out), fallbacks);
    }

    /** Partial quantization keeps unselected layers and output.weight as they are; the embedding follows the mix. */
    private static boolean inSelectedLayers(String name, LayerSelection layers) {
        int layer = layerOf(name);
        if (layer < 0) {
            return !name.equals("output.weight");
        }
        return layers.contains(layer);
    }

    static boolean isQuantizable(SourceTensor t, QuantizeOptions o) {
        String n = t.name();
        return n.endsWith("weight")
                && t.shape().length >= 2
                && !n.contains("_norm.weight")
                && !(o.leaveOutputTensor() && n.equals("output.weight"))
                && !n.contains("ffn_gate_inp.weight")
                && !n.equals("position_embd.weight")
                && !n.equals("token_types.weight")
                && !n.contains("attn_rel_b.weight");
    }
}
