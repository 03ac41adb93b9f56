package io.quant4j.model;

/**
 * Hyper-parameters of a Llama-family decoder, whatever file they came from.
 *
 * @param dim              embedding width (hidden_size)
 * @param hiddenDim        feed-forward width (intermediate_size)
 * @param headDim          per-head width (usually dim / nHeads)
 * @param ropeDim          rotated dimensions per head (llama.rope.dimension_count; usually headDim)
 * @param ropeFreqFactors  per-pair divisors of the frequencies (GGUF rope_freqs.weight), or null
 */
public record LlamaConfig(
        String architecture,
        int dim,
        int hiddenDim,
        int nLayers,
        int nHeads,
        int nKvHeads,
        int headDim,
        int vocabSize,
        int contextLength,
        float rmsNormEps,
        float ropeTheta,
        int ropeDim,
        RopeScaling ropeScaling,
        float[] ropeFreqFactors) {

    public LlamaConfig {
        check(dim > 0 && hiddenDim > 0 && nLayers > 0 && nHeads > 0 && nKvHeads > 0 && headDim > 0 && vocabSize > 0 && contextLength > 0,
                "all sizes must be positive");
        check(nHeads % nKvHeads == 0, "head count " + nHeads + " is not a multiple of the KV head count " + nKvHeads);
        check(ropeDim > 0 && ropeDim <= headDim && ropeDim % 2 == 0, "rope dimension " + ropeDim + " must be even and at most the head size " + headDim);
        check(rmsNormEps > 0 && rmsNormEps < 1, "rms_norm_eps " + rmsNormEps + " is out of range");
        check(ropeTheta > 0 && Float.isFinite(ropeTheta), "rope theta " + ropeTheta + " must be positive and finite");
    }

    private static void check(boolean ok, String message) {
        if (!ok) {
            throw new IllegalArgumentException(message);
        }
    }

    public int kvDim() {
        return nKvHeads * headDim;
    }

    public int qDim() {
        return nHeads * headDim;
    }

    public int groupSize() {
        return nHeads / nKvHeads;
    }

    public LlamaConfig withContextLength(int n) {
        return new LlamaConfig(architecture, dim, hiddenDim, nLayers, nHeads, nKvHeads, headDim, vocabSize, n, rmsNormEps,
                ropeTheta, ropeDim, ropeScaling, ropeFreqFactors);
    }
}
