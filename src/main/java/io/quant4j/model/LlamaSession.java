package io.quant4j.model;

/**
 * Scratch buffers and the KV cache of one sequence (F32, or IEEE halves with {@code f16Cache}). Buffers for a
 * batch of tokens grow on first use to the largest batch seen (at most {@link #MAX_BATCH} rows); nothing is
 * allocated per token afterwards. Prompts go through {@link Llama}'s batched forward in chunks of
 * {@link #MAX_BATCH} tokens.
 */
public final class LlamaSession implements InferenceSession {
    /** Tokens per forward batch: enough to amortize reading the weights, small enough for cache-friendly buffers. */
    public static final int MAX_BATCH = 128;

    private final Llama model;
    private final int capacity;
    private final boolean f16Cache;
    private int position;

    final float[] logits;
    final float[][] att;
    final float[][] keyCache;
    final float[][] valueCache;
    final short[][] keyCache16;
    final short[][] valueCache16;
    private Batch batch;
    private final int[] one = new int[1];

    /** Activations of n tokens, row i of each at i·width. */
    static final class Batch {
        final int rows;
        final boolean withLogits;
        final float[] x;
        final float[] xb;
        final float[] xb2;
        final float[] q;
        final float[] k;
        final float[] v;
        final float[] attnOut;
        final float[] hb;
        final float[] hb2;
        final float[] cos;
        final float[] sin;
        final float[] logits;

        Batch(LlamaConfig c, int rows, boolean withLogits) {
            this.rows = rows;
            this.withLogits = withLogits;
            x = new float[rows * c.dim()];
            xb = new float[rows * c.dim()];
            xb2 = new float[rows * c.dim()];
            q = new float[rows * c.qDim()];
            k = new float[rows * c.kvDim()];
            v = new float[rows * c.kvDim()];
            attnOut = new float[rows * c.qDim()];
            hb = new float[rows * c.hiddenDim()];
            hb2 = new float[rows * c.hiddenDim()];
            cos = new float[rows * (c.ropeDim() / 2)];
            sin = new float[rows * (c.ropeDim() / 2)];
            logits = withLogits ? new float[Math.multiplyExact(rows, c.vocabSize())] : null;
        }
    }

    LlamaSession(Llama model, int capacity, boolean f16Cache) {
        this.model = model;
        this.capacity = capacity;
        this.f16Cache = f16Cache;
        LlamaConfig c = model.config();
        logits = new float[c.vocabSize()];
        att = new float[c.nHeads()][capacity];
        if ((long) capacity * c.kvDim() > Integer.MAX_VALUE - 16) {
            throw new IllegalArgumentException("context of " + capacity + " tokens is too large for one KV cache array");
        }
        int cacheSize = capacity * c.kvDim();
        if (f16Cache) {
            keyCache = null;
            valueCache = null;
            keyCache16 = new short[c.nLayers()][cacheSize];
            valueCache16 = new short[c.nLayers()][cacheSize];
        } else {
            keyCache = new float[c.nLayers()][cacheSize];
            valueCache = new float[c.nLayers()][cacheSize];
            keyCache16 = null;
            valueCache16 = null;
        }
        batch = new Batch(c, 1, false);
    }

    /** Buffers for n tokens (and n rows of logits when asked). */
    Batch batch(int n, boolean withLogits) {
        if (batch.rows < n || (withLogits && !batch.withLogits)) {
            batch = new Batch(model.config(), Math.max(n, batch.rows), withLogits || batch.withLogits);
        }
        return batch;
    }

    void storeKv(int layer, int pos, float[] k, int kOff, float[] v, int vOff) {
        int kvDim = model.config().kvDim();
        if (f16Cache) {
            short[] kc = keyCache16[layer];
            short[] vc = valueCache16[layer];
            for (int i = 0; i < kvDim; i++) {
                kc[pos * kvDim + i] = Float.floatToFloat16(k[kOff + i]);
                vc[pos * kvDim + i] = Float.floatToFloat16(v[vOff + i]);
            }
        } else {
            System.arraycopy(k, kOff, keyCache[layer], pos * kvDim, kvDim);
            System.arraycopy(v, vOff, valueCache[layer], pos * kvDim, kvDim);
        }
    }

    void attend(int layer, float[] q, int qOff, int kvOff, int len, int headDim, float scale, float[] att, float[] out, int outOff) {
        int kvDim = model.config().kvDim();
        if (f16Cache) {
            Attention.attendF16(q, qOff, keyCache16[layer], valueCache16[layer], kvOff, kvDim, len, headDim, scale, att, out, outOff);
        } else {
            Attention.attendF32(q, qOff, keyCache[layer], valueCache[layer], kvOff, kvDim, len, headDim, scale, att, out, outOff);
        }
    }

    private void checkRoom(int n) {
        if (n > capacity - position) {
            throw new IllegalStateException("context is full (" + capacity + " tokens)");
        }
    }

    @Override
    public float[] forward(int token) {
        checkRoom(1);
        one[0] = token;
        model.forward(this, one, 0, 1, position, false);
        position++;
        return logits;
    }

    /** Feeds the prompt in batches of up to {@link #MAX_BATCH} tokens; returns the logits after the last one. */
    @Override
    public float[] forward(int[] tokens) {
        if (tokens.length == 0) {
            throw new IllegalArgumentException("empty prompt");
        }
        checkRoom(tokens.length);
        int step = model.observed() ? 1 : MAX_BATCH; // an imatrix observer sees one token at a time, as before
        for (int off = 0; off < tokens.length; off += step) {
            int n = Math.min(step, tokens.length - off);
            model.forward(this, tokens, off, n, position, false);
            position += n;
        }
        return logits;
    }

    @Override
    public void forwardEach(int[] tokens, LogitsListener listener) {
        checkRoom(tokens.length);
        int vocab = logits.length;
        int step = model.observed() ? 1 : MAX_BATCH;
        for (int off = 0; off < tokens.length; off += step) {
            int n = Math.min(step, tokens.length - off);
            model.forward(this, tokens, off, n, position, true);
            position += n;
            float[] all = batch.logits;
            for (int i = 0; i < n; i++) {
                System.arraycopy(all, i * vocab, logits, 0, vocab);
                listener.logits(off + i, logits);
            }
        }
    }

    @Override
    public int position() {
        return position;
    }

    @Override
    public int contextLength() {
        return capacity;
    }

    @Override
    public int vocabSize() {
        return logits.length;
    }

    public boolean f16Cache() {
        return f16Cache;
    }

    /** Forgets the tokens after {@code newPosition} (their cache entries are overwritten by later tokens). */
    public void rewind(int newPosition) {
        if (newPosition < 0 || newPosition > position) {
            throw new IllegalArgumentException("cannot rewind to " + newPosition + " from " + position);
        }
        position = newPosition;
    }

    @Override
    public LlamaSession copy() {
        LlamaSession c = new LlamaSession(model, capacity, f16Cache);
        int used = position * model.config().kvDim();
        for (int l = 0; l < model.config().nLayers(); l++) {
            if (f16Cache) {
                System.arraycopy(keyCache16[l], 0, c.keyCache16[l], 0, used);
                System.arraycopy(valueCache16[l], 0, c.valueCache16[l], 0, used);
            } else {
                System.arraycopy(keyCache[l], 0, c.keyCache[l], 0, used);
                System.arraycopy(valueCache[l], 0, c.valueCache[l], 0, used);
            }
        }
        System.arraycopy(logits, 0, c.logits, 0, logits.length);
        c.position = position;
        return c;
    }

    public Llama model() {
        return model;
    }
}
