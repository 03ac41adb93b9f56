package io.quant4j.quantize.gptq;

import io.quant4j.model.Llama;
import io.quant4j.model.LlamaConfig;
import io.quant4j.tensor.Parallel;

/**
 * A float forward pass of one decoder block over a whole calibration window (all positions at once, causal
 * attention from position 0), computing what {@link Llama} computes token by token: RMSNorm, q/k/v, RoPE on
 * interleaved pairs, grouped-query attention, o, residual, RMSNorm, SwiGLU, down, residual. It can stop at the input
 * of a true-sequential stage, handing each stage input it passes to a {@link Capture}.
 */
final class BlockForward {
    /** Receives the input [tokens × width] of a stage's projections (stage = {@link Projection#stage}). */
    interface Capture {
        void input(int stage, float[] x, int tokens, int width);
    }

    private final LlamaConfig c;
    private final double[] invFreq;

    BlockForward(LlamaConfig c) {
        this.c = c;
        this.invFreq = Llama.ropeInverseFrequencies(c);
    }

    /**
     * Runs the block on {@code hidden} [tokens × dim]. Stops after handing stage {@code lastStage}'s input to
     * {@code capture} when lastStage < {@link Projection#STAGES}; otherwise returns the block's output.
     */
    float[] run(FloatLayer layer, float[] hidden, int tokens, int lastStage, Capture capture) {
        return run(layer, hidden, tokens, lastStage, capture, null, 0);
    }

    /**
     * The same, reusing what {@code cache} holds of this window (when not null) and filling it: the first
     * {@code finalStages} stages' projections are final (quantized, or never to be), so every intermediate that
     * depends on them alone will not change again in this block — the attention output (o's input) once q, k and v
     * are final, the residual after o once o is, down's input once up and gate are. Each later pass then starts from
     * the latest one held instead of recomputing the products before it.
     */
    float[] run(FloatLayer layer, float[] hidden, int tokens, int lastStage, Capture capture, WindowCache cache, int finalStages) {
        int dim = c.dim();
        int hd = c.hiddenDim();
        float[] h = cache == null || cache.residual == null ? null : cache.residual.clone();
        float[] mlpIn = cache == null || h == null ? null : cache.mlpInput;
        if (h == null) {
            float[] att = cache == null ? null : cache.attention;
            if (att == null) {
                float[] xn = rmsNorm(hidden, tokens, dim, layer.attnNorm);
                capture.input(0, xn, tokens, dim);
                if (lastStage == 0) {
                    return null;
                }
                float[] q = linear(xn, tokens, layer.weight(Projection.Q), c.qDim(), dim);
                float[] k = linear(xn, tokens, layer.weight(Projection.K), c.kvDim(), dim);
                float[] v = linear(xn, tokens, layer.weight(Projection.V), c.kvDim(), dim);
                rope(q, tokens, c.nHeads());
                rope(k, tokens, c.nKvHeads());
                att = attention(q, k, v, tokens);
                if (cache != null && cache.keepAttention && finalStages >= 1) {
                    cache.attention = att;
                }
            }
            capture.input(1, att, tokens, c.qDim());
            if (lastStage == 1) {
                return null;
            }
            float[] o = linear(att, tokens, layer.weight(Projection.O), dim, c.qDim());
            h = hidden.clone();
            for (int i = 0; i < h.length; i++) {
                h[i] += o[i];
            }
            if (cache != null && cache.keepResidual && finalStages >= 2) {
                cache.residual = h.clone();
            }
        }
        if (mlpIn == null) {
            float[] xn2 = rmsNorm(h, tokens, dim, layer.ffnNorm);
            capture.input(2, xn2, tokens, dim);
            if (lastStage == 2) {
                return null;
            }
            float[] gate = linear(xn2, tokens, layer.weight(Projection.GATE), hd, dim);
            float[] up = linear(xn2, tokens, layer.weight(Projection.UP), hd, dim);
            for (int i = 0; i < gate.length; i++) {
                float g = gate[i];
                gate[i] = g / (1f + (float) Math.exp(-g)) * up[i];
            }
            mlpIn = gate;
            if (cache != null && cache.keepMlpInput && cache.residual != null && finalStages >= 3) {
                cache.mlpInput = mlpIn;
            }
        }
        capture.input(3, mlpIn, tokens, hd);
        if (lastStage == 3) {
            return null;
        }
        float[] down = linear(mlpIn, tokens, layer.weight(Projection.DOWN), dim, hd);
        for (int i = 0; i < h.length; i++) {
            h[i] += down[i];
        }
        return h;
    }

    private static float[] linear(float[] x, int tokens, float[] w, int out, int in) {
        float[] y = new float[tokens * out];
        Gemm.abT(x, tokens, w, out, in, y, out, true, false);
        return y;
    }

    private float[] rmsNorm(float[] x, int tokens, int dim, float[] weight) {
        float[] out = new float[x.length];
        float eps = c.rmsNormEps();
        for (int t = 0; t < tokens; t++) {
            int base = t * dim;
            double sum = 0;
            for (int i = 0; i < dim; i++) {
                sum += (double) (x[base + i] * x[base + i]);
            }
            float scale = (float) (1.0 / Math.sqrt((float) (sum / dim) + eps));
            for (int i = 0; i < dim; i++) {
                out[base + i] = (x[base + i] * scale) * weight[i];
            }
        }
        return out;
    }

    private void rope(float[] v, int tokens, int heads) {
        int headDim = c.headDim();
        int width = heads * headDim;
        int pairs = invFreq.length;
        float[] cos = new float[pairs];
        float[] sin = new float[pairs];
        for (int t = 0; t < tokens; t++) {
            for (int i = 0; i < pairs; i++) {
                double angle = t * invFreq[i];
                cos[i] = (float) Math.cos(angle);
                sin[i] = (float) Math.sin(angle);
            }
            for (int h = 0; h < heads; h++) {
                int base = t * width + h * headDim;
                for (int i = 0; i < pairs; i++) {
                    float a = v[base + 2 * i];
                    float b = v[base + 2 * i + 1];
                    v[base + 2 * i] = a * cos[i] - b * sin[i];
                    v[base + 2 * i + 1] = a * sin[i] + b * cos[i];
                }
            }
        }
    }

    /**
     * Causal attention per head as two products: S = Q_h·K_hᵀ (the future half is computed and masked), then
     * O_h = P·V_h with the rows of P the softmax of S's visible part. Heads run in parallel.
     */
    private float[] attention(float[] q, float[] k, float[] v, int tokens) {
        int headDim = c.headDim();
        int qDim = c.qDim();
        int kvDim = c.kvDim();
        int group = c.groupSize();
        float scale = (float) (1.0 / Math.sqrt(headDim));
        float[] out = new float[tokens * qDim];
        Parallel.forRange(c.nHeads(), (long) tokens * tokens * headDim, (from, to) -> {
            float[] qh = new float[tokens * headDim];
            float[] kh = new float[tokens * headDim];
            float[] vt = new float[headDim * tokens];
            float[] scores = new float[tokens * tokens];
            float[] oh = new float[tokens * headDim];
            for (int h = from; h < to; h++) {
                int kvOff = (h / group) * headDim;
                for (int t = 0; t < tokens; t++) {
                    System.arraycopy(q, t * qDim + h * headDim, qh, t * headDim, headDim);
                    System.arraycopy(k, t * kvDim + kvOff, kh, t * headDim, headDim);
                    for (int d = 0; d < headDim; d++) {
                        vt[d * tokens + t] = v[t * kvDim + kvOff + d];
                    }
                }
                Gemm.abTSerial(qh, tokens, kh, tokens, headDim, scores, tokens);
                for (int t = 0; t < tokens; t++) {
                    int row = t * tokens;
                    float max = Float.NEGATIVE_INFINITY;
                    for (int s = 0; s <= t; s++) {
                        scores[row + s] *= scale;
                        max = Math.max(max, scores[row + s]);
                    }
                    double sum = 0;
                    for (int s = 0; s <= t; s++) {
                        float e = (float) Math.exp(scores[row + s] - max);
                        scores[row + s] = e;
                        sum += e;
                    }
                    float inv = (float) (1.0 / sum);
                    for (int s = 0; s <= t; s++) {
                        scores[row + s] *= inv;
                    }
                    java.util.Arrays.fill(scores, row + t + 1, row + tokens, 0f);
                }
                Gemm.abTSerial(scores, tokens, vt, headDim, tokens, oh, headDim);
                for (int t = 0; t < tokens; t++) {
                    System.arraycopy(oh, t * headDim, out, t * qDim + h * headDim, headDim);
                }
            }
        });
        return out;
    }
}
