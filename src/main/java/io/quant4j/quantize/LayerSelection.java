package io.quant4j.quantize;

import java.util.BitSet;

/**
 * Which decoder layers to quantize: "0-27", "0,2,5-7", or the first K ({@code --quantize-first K}). Parsed
 * before the model is known; {@link #validate} checks it against the layer count.
 */
public final class LayerSelection {
    private final BitSet layers;
    private final String spec;

    private LayerSelection(BitSet layers, String spec) {
        this.layers = layers;
        this.spec = spec;
    }

    public static LayerSelection parse(String spec) {
        BitSet set = new BitSet();
        for (String part : spec.split(",")) {
            String p = part.trim();
            try {
                int dash = p.indexOf('-');
                if (dash > 0) {
                    int from = Integer.parseInt(p.substring(0, dash).trim());
                    int to = Integer.parseInt(p.substring(dash + 1).trim());
                    if (from < 0 || to < from || to > 100_000) {
                        throw new IllegalArgumentException("bad layer range '" + p + "' in --layers " + spec);
                    }
                    set.set(from, to + 1);
                } else {
                    int i = Integer.parseInt(p);
                    if (i < 0 || i > 100_000) {
                        throw new IllegalArgumentException("bad layer " + p + " in --layers " + spec);
                    }
                    set.set(i);
                }
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("bad layer list '" + spec + "' (expected e.g. 0-27 or 0,1,4-7)");
            }
        }
        if (set.isEmpty()) {
            throw new IllegalArgumentException("--layers selects no layer");
        }
        return new LayerSelection(set, spec);
    }

    public static LayerSelection first(int k) {
        if (k < 1) {
            throw new IllegalArgumentException("--quantize-first must be at least 1, got " + k);
        }
        BitSet set = new BitSet();
        set.set(0, k);
        return new LayerSelection(set, "0-" + (k - 1));
    }

    public void validate(int nLayers) {
        if (layers.length() > nLayers) {
            throw new IllegalArgumentException("--layers " + spec + " names layer " + (layers.length() - 1)
                    + " but the model has layers 0-" + (nLayers - 1));
        }
    }

    public boolean contains(int layer) {
        return layers.get(layer);
    }

    public int count() {
        return layers.cardinality();
    }

    @Override
    public String toString() {
        return spec;
    }
}
