package io.quant4j.quantize.gptq;

import io.quant4j.tensor.gptq.GptqPacking;

/**
 * How to quantize each linear layer.
 *
 * @param method         GPTQ (error feedback through the inverse Hessian) or RTN (the same grid, rounded to nearest)
 * @param bits           2, 3, 4 or 8
 * @param groupSize      input columns per scale/zero group, or −1 for one group per output row
 * @param actOrder       quantize columns by decreasing Hessian diagonal (AutoGPTQ desc_act)
 * @param staticGroups   group grids computed up front from the unquantized weights
 * @param sym            symmetric grid (zero point fixed at the middle)
 * @param damp           dampening, a fraction of the mean Hessian diagonal added to it (damp_percent)
 * @param blockSize      columns per lazy batch
 * @param trueSequential collect each sub-layer group's inputs after the previous group is quantized
 */
public record GptqOptions(Method method, int bits, int groupSize, boolean actOrder, boolean staticGroups, boolean sym,
                          double damp, int blockSize, boolean trueSequential) {
    public enum Method { GPTQ, RTN }

    public GptqOptions {
        if (!GptqPacking.supportedBits(bits)) {
            throw new IllegalArgumentException("--bits " + bits + " is not supported: GPTQ checkpoints hold 2, 3, 4 or 8 bits");
        }
        if (groupSize == 0 || groupSize < -1) {
            throw new IllegalArgumentException("--group-size " + groupSize + " is not supported: use -1 (one group per output row) or a positive size");
        }
        if (!(damp >= 0 && damp < 1)) {
            throw new IllegalArgumentException("--damp " + damp + " must be in [0, 1) (a fraction of the mean Hessian diagonal)");
        }
        if (blockSize < 1) {
            throw new IllegalArgumentException("block size must be positive");
        }
    }

    public static GptqOptions gptq(int bits, int groupSize) {
        return new GptqOptions(Method.GPTQ, bits, groupSize, false, false, true, 0.01, 128, true);
    }

    public GptqOptions withMethod(Method m) {
        return new GptqOptions(m, bits, groupSize, actOrder, staticGroups, sym, damp, blockSize, trueSequential);
    }

    public GptqOptions withActOrder(boolean a) {
        return new GptqOptions(method, bits, groupSize, a, staticGroups, sym, damp, blockSize, trueSequential);
    }

    public GptqOptions withStaticGroups(boolean s) {
        return new GptqOptions(method, bits, groupSize, actOrder, s, sym, damp, blockSize, trueSequential);
    }

    public GptqOptions withSym(boolean s) {
        return new GptqOptions(method, bits, groupSize, actOrder, staticGroups, s, damp, blockSize, trueSequential);
    }

    /** Effective group width for a layer with {@code cols} inputs (−1 means the whole row). */
    int groupWidth(int cols) {
        return groupSize == -1 ? cols : groupSize;
    }

    /**
     * Checks that the group size fits a layer: it must divide the input features or be a multiple of 32 (then the
     * last group is partial, which AutoGPTQ's ceil(in/group) scale rows represent). Returns a problem, or null.
     */
    public String groupProblem(int cols) {
        if (groupSize == -1 || cols % groupSize == 0 || groupSize % 32 == 0) {
            return null;
        }
        return "--group-size " + groupSize + " does not divide the " + cols + " input features and is not a multiple of 32"
                + " (a group size must divide the input features, or be a multiple of 32 to allow a partial last group; or use -1)";
    }
}
