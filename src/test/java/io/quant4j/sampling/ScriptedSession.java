package io.quant4j.sampling;

import io.quant4j.model.InferenceSession;

import java.util.ArrayList;
import java.util.List;
import java.util.function.IntUnaryOperator;

/** A session whose logits after each token strongly favour {@code favoured.applyAsInt(position())}. */
class ScriptedSession implements InferenceSession {
    private final int vocab;
    private final int contextLength;
    private final IntUnaryOperator favoured;
    private final float[] logits;
    final List<Integer> fed = new ArrayList<>();

    ScriptedSession(int vocab, int contextLength, IntUnaryOperator favoured) {
        this.vocab = vocab;
        this.contextLength = contextLength;
        this.favoured = favoured;
        this.logits = new float[vocab];
    }

    @Override
    public float[] forward(int token) {
        if (fed.size() >= contextLength) {
            throw new IllegalStateException("context is full");
        }
        fed.add(token);
        java.util.Arrays.fill(logits, 0f);
        logits[favoured.applyAsInt(fed.size())] = 20f;
        return logits;
    }

    @Override
    public int position() {
        return fed.size();
    }

    @Override
    public int contextLength() {
        return contextLength;
    }

    @Override
    public int vocabSize() {
        return vocab;
    }

    @Override
    public InferenceSession copy() {
        throw new UnsupportedOperationException();
    }
}
