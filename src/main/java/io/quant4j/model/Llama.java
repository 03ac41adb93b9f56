package io.quant4j.model;

import io.quant4j.tensor.Parallel;
import io.quant4j.tensor.VectorKernels;
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

    /** A new session holding at most {@code maxTokens} tokens (capped at the model's context length). */
    public LlamaSession newSession(int maxTokens) {
        return new LlamaSession(this, Math.min(maxTokens, config.contextLength()));
    }

    public LlamaSession newSession() {
        return newSession(config.contextLength());
    }

    /** Runs token at pos through the network, writing K/V into the state's cache and the logits into {@code s.logits}. */
    void forward(LlamaSession s, int token, int pos) {
        LlamaConfig c = config;
        int dim = c.dim();
        int headDim = c.headDim();
        int kvDim = c.kvDim();
        int group = c.groupSize();
        if (token < 0 || token >= c.vocabSize()) {
            throw new IllegalArgumentException("token id " + token + " is outside the vocabulary (0.." + (c.vocabSize() - 1) + ")");
        }
        float[] x = s.x;
        weights.tokenEmbedding().dequantizeRow(token, x, 0);
        ropeTables(pos, s.cos, s.sin);

        for (int l = 0; l < c.nLayers(); l++) {
            LlamaWeights.Layer layer = weights.layers().get(l);
            rmsNorm(s.xb, x, layer.attnNorm(), dim, c.rmsNormEps());
            observe(l, 0, s.xb, dim);

            Parallel.matVec(layer.attnQ(), s.xb, s.q);
            Parallel.matVec(layer.attnK(), s.xb, s.k);
            Parallel.matVec(layer.attnV(), s.xb, s.v);
            rope(s.q, c.nHeads(), headDim, s.cos, s.sin);
            rope(s.k, c.nKvHeads(), headDim, s.cos, s.sin);

            float[] kCache = s.keyCache[l];
            float[] vCache = s.valueCache[l];
            System.arraycopy(s.k, 0, kCache, pos * kvDim, kvDim);
            System.arraycopy(s.v, 0, vCache, pos * kvDim, kvDim);

            float scale = (float) (1.0 / Math.sqrt(headDim));
            Parallel.forRange(c.nHeads(), (long) (pos + 1) * headDim * 2, (from, to) -> {
                for (int h = from; h < to; h++) {
                    attendHead(s, kCache, vCache, h, h / group, pos, headDim, kvDim, scale);
                }
            });

            observe(l, 1, s.attnOut, c.qDim());
            Parallel.matVec(layer.attnOutput(), s.attnOut, s.xb2);
            for (int i = 0; i < dim; i++) {
                x[i] += s.xb2[i];
            }

            rmsNorm(s.xb, x, layer.ffnNorm(), dim, c.rmsNormEps());
            observe(l, 2, s.xb, dim);
            Parallel.matVec(layer.ffnGate(), s.xb, s.hb);
            Parallel.matVec(layer.ffnUp(), s.xb, s.hb2);
            for (int i = 0; i < c.hiddenDim(); i++) {
                float g = s.hb[i];
                s.hb[i] = g / (1f + (float) Math.exp(-g)) * s.hb2[i];
            }
            observe(l, 3, s.hb, c.hiddenDim());
            Parallel.matVec(layer.ffnDown(), s.hb, s.xb2);
            for (int i = 0; i < dim; i++) {
                x[i] += s.xb2[i];
            }
        }
        rmsNorm(x, x, weights.outputNorm(), dim, c.rmsNormEps());
        Parallel.matVec(weights.output(), x, s.logits);
    }

    private static void attendHead(LlamaSession s, float[] kCache, float[] vCache, int h, int kvHead, int pos,
                                   int headDim, int kvDim, float scale) {
        float[] att = s.att[h];
        int qOff = h * headDim;
        int kvOff = kvHead * headDim;
        float max = Float.NEGATIVE_INFINITY;
        for (int t = 0; t <= pos; t++) {
            float score = VectorKernels.dot(s.q, qOff, kCache, t * kvDim + kvOff, headDim) * scale;
            att[t] = score;
            max = Math.max(max, score);
        }
        double sum = 0;
        for (int t = 0; t <= pos; t++) {
            float e = (float) Math.exp(att[t] - max);
            att[t] = e;
            sum += e;
        }
        float inv = (float) (1.0 / sum);
        float[] out = s.attnOut;
        java.util.Arrays.fill(out, qOff, qOff + headDim, 0f);
        for (int t = 0; t <= pos; t++) {
            VectorKernels.axpy(att[t] * inv, vCache, t * kvDim + kvOff, out, qOff, headDim);
        }
    }

    static void rmsNorm(float[] out, float[] x, float[] weight, int n, float eps) {
        double sum = 0;
        for (int i = 0; i < n; i++) {
            sum += (double) (x[i] * x[i]);
        }
        float mean = (float) (sum / n);
        float scale = (float) (1.0 / Math.sqrt(mean + eps));
        for (int i = 0; i < n; i++) {
            out[i] = (x[i] * scale) * weight[i];
        }
    }

    private void ropeTables(int pos, float[] cos, float[] sin) {
        for (int i = 0; i < invFreq.length; i++) {
            double angle = pos * invFreq[i];
            cos[i] = (float) Math.cos(angle);
            sin[i] = (float) Math.sin(angle);
        }
    }

    /** Rotates pairs (2i, 2i+1) of the first ropeDim values of every head. */
    private static void rope(float[] v, int heads, int headDim, float[] cos, float[] sin) {
        int pairs = cos.length;
        for (int h = 0; h < heads; h++) {
            int base = h * headDim;
            for (int i = 0; i < pairs; i++) {
                float a = v[base + 2 * i];
                float b = v[base + 2 * i + 1];
                v[base + 2 * i] = a * cos[i] - b * sin[i];
                v[base + 2 * i + 1] = a * sin[i] + b * cos[i];
            }
        }
    }

    static void matVec(WeightMatrix w, float[] x, float[] out) {
        Parallel.matVec(w, x, out);
    }
}
