package io.quant4j.sampling;

import io.quant4j.model.InferenceSession;

import java.util.ArrayList;
import java.util.List;

/**
 * A hand-made first-order Markov "model": the next-token logits are the log-probabilities of a transition table
 * row chosen by the last token fed. Records what it was fed and counts copies, for beam search tests.
 */
final class MarkovSession implements InferenceSession {
    private final double[][] transitions;
    private final int contextLength;
    private final Counters counters;
    private final List<Integer> fed;
    private final float[] logits;

    static final class Counters {
        int copies;
        int forwards;
    }

    MarkovSession(double[][] transitions, int contextLength) {
        this(transitions, contextLength, new Counters(), new ArrayList<>());
    }

    private MarkovSession(double[][] transitions, int contextLength, Counters counters, List<Integer> fed) {
        this.transitions = transitions;
        this.contextLength = contextLength;
        this.counters = counters;
        this.fed = fed;
        this.logits = new float[transitions.length];
    }

    @Override
    public float[] forward(int token) {
        if (fed.size() >= contextLength) {
            throw new IllegalStateException("context is full");
        }
        fed.add(token);
        counters.forwards++;
        double[] row = transitions[token];
        for (int i = 0; i < row.length; i++) {
            logits[i] = row[i] > 0 ? (float) Math.log(row[i]) : Float.NEGATIVE_INFINITY;
        }
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
        return transitions.length;
    }

    @Override
    public MarkovSession copy() {
        counters.copies++;
        MarkovSession c = new MarkovSession(transitions, contextLength, counters, new ArrayList<>(fed));
        System.arraycopy(logits, 0, c.logits, 0, logits.length);
        return c;
    }

    Counters counters() {
        return counters;
    }

    List<Integer> fed() {
        return fed;
    }

    /** log P(tokens | prompt), by the table. */
    static double logProb(double[][] transitions, int last, int[] tokens) {
        double sum = 0;
        for (int t : tokens) {
            sum += Math.log(transitions[last][t]);
            last = t;
        }
        return sum;
    }
}
