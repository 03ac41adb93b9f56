package io.quant4j.model;

import io.quant4j.tensor.Parallel;
import io.quant4j.tensor.Simd;
import jdk.incubator.vector.FloatVector;
import io.quant4j.tensor.WeightMatrix;

/**
 * The Llama forward pass for one token, top to bottom as in llama2.c's run.c: RMSNorm, RoPE on interleaved
 * pairs (GGUF layout), grouped-query attention over the KV cache, SwiGLU, and the classifier. Reductions that
 * ggml does in double (RMSNorm's sum of squares, softmax's sum) are done in double here too.
 */
public final class Llama {
    private final LlamaConfig config;
    private final LlamaWeights weights;
    private final double[] invFreq;
    private final String[][] tensorNames;
    private volatile ActivationObserver observer;

    public Llama(LlamaConfig config, LlamaWeights weights) {
        this.config = config;
        this.weights = weights;
        this.invFreq = ropeInverseFrequencies(config);
        String[] suffixes = {"attn_q", "attn_output", "ffn_gate", "ffn_down"};
        tensorNames = new String[config.nLayers()][suffixes.length];
        for (int l = 0; l < config.nLayers(); l++) {
            for (int j = 0; j < suffixes.length; j++) {
                tensorNames[l][j] = "blk." + l + "." + suffixes[j] + ".weight";
            }
        }
    }

    /** The rotary frequency of each pair (2i, 2i+1), after rope scaling and any per-pair frequency factors. */
    public static double[] ropeInverseFrequencies(LlamaConfig config) {
        int pairs = config.ropeDim() / 2;
        double[] invFreq = new double[pairs];
        for (int i = 0; i < pairs; i++) {
            double f = 1.0 / Math.pow(config.ropeTheta(), (2.0 * i) / config.ropeDim());
            f = config.ropeScaling().apply(f);
            if (config.ropeFreqFactors() != null) {
                f /= config.ropeFreqFactors()[i];
            }
            invFreq[i] = f;
        }
        return invFreq;
    }

    /** Installs (or, with null, removes) an observer of matrix inputs. */
    public void setObserver(ActivationObserver observer) {
        this.observer = observer;
    }

    private void observe(int layer, int which, float[] x, int n) {
        ActivationObserver o = observer;
        if (o == null) {
            return;
        }
        String name = tensorNames[layer][which];
        o.observe(name, x, n);
        if (which == 0) { // k and v read the same input as q
            o.observe(name.replace("attn_q", "attn_k"), x, n);
            o.observe(name.replace("attn_q", "attn_v"), x, n);
        } else if (which == 2) { // up reads the same input as gate
            o.observe(name.replace("ffn_gate", "ffn_up"), x, n);
        }
    }

    public LlamaConfig config() {
        return config;
    }

    public LlamaWeights weights() {
        return weights;
    }

    /** A new session holding at most {@code maxTokens} tokens (capped at the model's context length), F32 KV cache. */
    public LlamaSession newSession(int maxTokens) {
        return newSession(maxTokens, false);
    }

    /** As {@link #newSession(int)}; {@code f16Cache} stores keys and values as IEEE halves (half the memory). */
    public LlamaSession newSession(int maxTokens, boolean f16Cache) {
        return new LlamaSession(this, Math.min(maxTokens, config.contextLength()), f16Cache);
    }

    public LlamaSession newSession() {
        return newSession(config.contextLength());
    }

    boolean observed() {
        return observer != null;
    }

    /**
     * Runs {@code n} tokens ({@code tokens[off .. off+n)}) at positions pos0.. through the network as one batch:
     * every matrix multiplies all n rows at once ({@link Parallel#matMul}: each weight read once per batch), K/V of
     * all n go into the cache, then each token attends causally to the cache up to its own position. Logits go to
     * {@code s.logits} for the last token, or for every token into the session's batch logits when
     * {@code allLogits}. With n = 1 this is the decode step and uses the matrix-vector kernels.
     */
    void forward(LlamaSession s, int[] tokens, int off, int n, int pos0, boolean allLogits) {
        LlamaConfig c = config;
        int dim = c.dim();
        int headDim = c.headDim();
        int kvDim = c.kvDim();
        int qDim = c.qDim();
        int hidden = c.hiddenDim();
        int group = c.groupSize();
        int pairs = invFreq.length;
        LlamaSession.Batch b = s.batch(n, allLogits);
        float[] x = b.x;
        for (int i = 0; i < n; i++) {
            int token = tokens[off + i];
            if (token < 0 || token >= c.vocabSize()) {
                throw new IllegalArgumentException("token id " + token + " is outside the vocabulary (0.." + (c.vocabSize() - 1) + ")");
            }
            weights.tokenEmbedding().dequantizeRow(token, x, i * dim);
            ropeTables(pos0 + i, b.cos, b.sin, i * pairs);
        }
        float scale = (float) (1.0 / Math.sqrt(headDim));

        for (int l = 0; l < c.nLayers(); l++) {
            LlamaWeights.Layer layer = weights.layers().get(l);
            for (int i = 0; i < n; i++) {
                rmsNorm(b.xb, i * dim, x, i * dim, layer.attnNorm(), dim, c.rmsNormEps());
            }
            if (n == 1) {
                observe(l, 0, b.xb, dim);
                Parallel.matVec(b.xb, layer.attnQ(), b.q, layer.attnK(), b.k, layer.attnV(), b.v);
            } else {
                Parallel.matMul(layer.attnQ(), b.xb, n, b.q);
                Parallel.matMul(layer.attnK(), b.xb, n, b.k);
                Parallel.matMul(layer.attnV(), b.xb, n, b.v);
            }
            for (int i = 0; i < n; i++) {
                rope(b.q, i * qDim, c.nHeads(), headDim, b.cos, b.sin, i * pairs, pairs);
                rope(b.k, i * kvDim, c.nKvHeads(), headDim, b.cos, b.sin, i * pairs, pairs);
                s.storeKv(l, pos0 + i, b.k, i * kvDim, b.v, i * kvDim);
            }

            int layerIndex = l;
            long work = (long) n * (pos0 + n) * headDim * 2;
            Parallel.forRange(c.nHeads(), work, (from, to) -> {
                for (int h = from; h < to; h++) {
                    int kvOff = (h / group) * headDim;
                    for (int i = 0; i < n; i++) {
                        s.attend(layerIndex, b.q, i * qDim + h * headDim, kvOff, pos0 + i + 1, headDim, scale,
                                s.att[h], b.attnOut, i * qDim + h * headDim);
                    }
                }
            });

            if (n == 1) {
                observe(l, 1, b.attnOut, qDim);
            }
            mul(layer.attnOutput(), b.attnOut, n, b.xb2);
            add(x, b.xb2, n * dim);

            for (int i = 0; i < n; i++) {
                rmsNorm(b.xb, i * dim, x, i * dim, layer.ffnNorm(), dim, c.rmsNormEps());
            }
            if (n == 1) {
                observe(l, 2, b.xb, dim);
                Parallel.matVec(b.xb, layer.ffnGate(), b.hb, layer.ffnUp(), b.hb2, null, null);
            } else {
                Parallel.matMul(layer.ffnGate(), b.xb, n, b.hb);
                Parallel.matMul(layer.ffnUp(), b.xb, n, b.hb2);
            }
            swiglu(b.hb, b.hb2, n * hidden);
            if (n == 1) {
                observe(l, 3, b.hb, hidden);
            }
            mul(layer.ffnDown(), b.hb, n, b.xb2);
            add(x, b.xb2, n * dim);
        }
        if (allLogits) {
            for (int i = 0; i < n; i++) {
                rmsNorm(x, i * dim, x, i * dim, weights.outputNorm(), dim, c.rmsNormEps());
            }
            mul(weights.output(), x, n, b.logits);
        } else {
            int last = (n - 1) * dim;
            rmsNorm(x, last, x, last, weights.outputNorm(), dim, c.rmsNormEps());
            if (last == 0) {
                Parallel.matVec(weights.output(), x, s.logits);
            } else {
                System.arraycopy(x, last, b.xb, 0, dim);
                Parallel.matVec(weights.output(), b.xb, s.logits);
            }
        }
    }

    private static void mul(WeightMatrix w, float[] x, int n, float[] out) {
        if (n == 1) {
            Parallel.matVec(w, x, out);
        } else {
            Parallel.matMul(w, x, n, out);
        }
    }

    private static void add(float[] x, float[] y, int n) {
        for (int i = 0; i < n; i++) {
            x[i] += y[i];
        }
    }

    /** h = silu(h) · up, in place. */
    static void swiglu(float[] h, float[] up, int n) {
        int i = 0;
        if (Simd.ENABLED) {
            for (; i + 8 <= n; i += 8) {
                FloatVector g = FloatVector.fromArray(Simd.F, h, i);
                FloatVector e = Simd.exp(g.neg());
                g.div(e.add(1f)).mul(FloatVector.fromArray(Simd.F, up, i)).intoArray(h, i);
            }
        }
        for (; i < n; i++) {
            float g = h[i];
            h[i] = g / (1f + (float) Math.exp(-g)) * up[i];
        }
    }

    static void rmsNorm(float[] out, int outOff, float[] x, int xOff, float[] weight, int n, float eps) {
        double sum = 0;
        for (int i = 0; i < n; i++) {
            float v = x[xOff + i];
            sum += (double) (v * v);
        }
        float mean = (float) (sum / n);
        float scale = (float) (1.0 / Math.sqrt(mean + eps));
        for (int i = 0; i < n; i++) {
            out[outOff + i] = (x[xOff + i] * scale) * weight[i];
        }
    }

    static void rmsNorm(float[] out, float[] x, float[] weight, int n, float eps) {
        rmsNorm(out, 0, x, 0, weight, n, eps);
    }

    private void ropeTables(int pos, float[] cos, float[] sin, int off) {
        for (int i = 0; i < invFreq.length; i++) {
            double angle = pos * invFreq[i];
            cos[off + i] = (float) Math.cos(angle);
            sin[off + i] = (float) Math.sin(angle);
        }
    }

    /** Rotates pairs (2i, 2i+1) of the first ropeDim values of every head of the vector at {@code v[vOff..]}. */
    private static void rope(float[] v, int vOff, int heads, int headDim, float[] cosT, float[] sinT, int csOff, int pairs) {
        for (int h = 0; h < heads; h++) {
            int base = vOff + h * headDim;
            for (int i = 0; i < pairs; i++) {
                float a = v[base + 2 * i];
                float b = v[base + 2 * i + 1];
                float cos = cosT[csOff + i];
                float sin = sinT[csOff + i];
                v[base + 2 * i] = a * cos - b * sin;
                v[base + 2 * i + 1] = a * sin + b * cos;
            }
        }
    }

    static void matVec(WeightMatrix w, float[] x, float[] out) {
        Parallel.matVec(w, x, out);
    }
}
