package io.quant4j.model;

/** Scratch buffers and the F32 KV cache of one sequence; nothing is allocated per token. */
public final class LlamaSession implements InferenceSession {
    private final Llama model;
    private final int capacity;
    private int position;

    final float[] x;
    final float[] xb;
    final float[] xb2;
    final float[] q;
    final float[] k;
    final float[] v;
    final float[] attnOut;
    final float[] hb;
    final float[] hb2;
    final float[][] att;
    final float[] logits;
    final float[] cos;
    final float[] sin;
    final float[][] keyCache;
    final float[][] valueCache;

    LlamaSession(Llama model, int capacity) {
        this.model = model;
        this.capacity = capacity;
        LlamaConfig c = model.config();
        x = new float[c.dim()];
        xb = new float[c.dim()];
        xb2 = new float[c.dim()];
        q = new float[c.qDim()];
        k = new float[c.kvDim()];
        v = new float[c.kvDim()];
        attnOut = new float[c.qDim()];
        hb = new float[c.hiddenDim()];
        hb2 = new float[c.hiddenDim()];
        att = new float[c.nHeads()][capacity];
        logits = new float[c.vocabSize()];
        cos = new float[c.ropeDim() / 2];
        sin = new float[c.ropeDim() / 2];
        keyCache = new float[c.nLayers()][(long) capacity * c.kvDim() > Integer.MAX_VALUE - 16 ? fail(capacity) : capacity * c.kvDim()];
        valueCache = new float[c.nLayers()][capacity * c.kvDim()];
    }

    private static int fail(int capacity) {
        throw new IllegalArgumentException("context of " + capacity + " tokens is too large for one KV cache array");
    }

    @Override
    public float[] forward(int token) {
        if (position >= capacity) {
            throw new IllegalStateException("context is full (" + capacity + " tokens)");
        }
        model.forward(this, token, position);
        position++;
        return logits;
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

    /** Forgets the tokens after {@code newPosition} (their cache entries are overwritten by later tokens). */
    public void rewind(int newPosition) {
        if (newPosition < 0 || newPosition > position) {
            throw new IllegalArgumentException("cannot rewind to " + newPosition + " from " + position);
        }
        position = newPosition;
    }

    @Override
    public LlamaSession copy() {
        LlamaSession c = new LlamaSession(model, capacity);
        int used = position * model.config().kvDim();
        for (int l = 0; l < keyCache.length; l++) {
            System.arraycopy(keyCache[l], 0, c.keyCache[l], 0, used);
            System.arraycopy(valueCache[l], 0, c.valueCache[l], 0, used);
        }
        System.arraycopy(logits, 0, c.logits, 0, logits.length);
        c.position = position;
        return c;
    }

    public Llama model() {
        return model;
    }
}
