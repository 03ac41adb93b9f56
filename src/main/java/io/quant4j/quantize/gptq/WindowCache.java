package io.quant4j.quantize.gptq;

/**
 * One calibration window's intermediates inside the block being quantized, kept between true-sequential passes so
 * that later passes do not recompute them (see {@link BlockForward#run(FloatLayer, float[], int, int,
 * BlockForward.Capture, WindowCache, int)}). Which ones are kept is decided once per run by {@link #plan}, within a
 * quarter of the heap; the rest are recomputed, as the reference does.
 */
final class WindowCache {
    final boolean keepAttention;
    final boolean keepResidual;
    final boolean keepMlpInput;
    /** o's input [tokens × qDim]. */
    float[] attention;
    /** The block's input plus o's output [tokens × dim]. */
    float[] residual;
    /** down's input [tokens × hiddenDim]. */
    float[] mlpInput;

    WindowCache(boolean keepAttention, boolean keepResidual, boolean keepMlpInput) {
        this.keepAttention = keepAttention;
        this.keepResidual = keepResidual;
        this.keepMlpInput = keepMlpInput;
    }

    /**
     * Empty caches for {@code windows} windows. The kinds are taken in order of the work each saves per byte —
     * attention (q, k, v and the attention itself), the residual (o twice), down's input (up and gate once) — while
     * all windows' copies together stay within {@code budgetBytes}. Down's input is kept only with the residual.
     */
    static WindowCache[] plan(int windows, long tokens, int qDim, int dim, int hiddenDim, long budgetBytes) {
        long left = budgetBytes;
        long att = 4L * windows * tokens * qDim;
        boolean keepAtt = att <= left;
        left -= keepAtt ? att : 0;
        long res = 4L * windows * tokens * dim;
        boolean keepRes = res <= left;
        left -= keepRes ? res : 0;
        long mlp = 4L * windows * tokens * hiddenDim;
        boolean keepMlp = keepRes && mlp <= left;
        WindowCache[] caches = new WindowCache[windows];
        for (int w = 0; w < windows; w++) {
            caches[w] = new WindowCache(keepAtt, keepRes, keepMlp);
        }
        return caches;
    }
}
