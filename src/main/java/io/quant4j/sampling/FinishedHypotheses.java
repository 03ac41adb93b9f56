package io.quant4j.sampling;

import java.util.Comparator;
import java.util.PriorityQueue;

/** The best {@code capacity} finished hypotheses by score; the worst sits at the head so it is cheap to evict. */
final class FinishedHypotheses {
    private final int capacity;
    private final PriorityQueue<Hypothesis> heap = new PriorityQueue<>(Comparator.comparingDouble(Hypothesis::score));

    FinishedHypotheses(int capacity) {
        this.capacity = capacity;
    }

    /** Keeps {@code h} if there is room or it beats the worst kept one (as transformers' BeamHypotheses.add). */
    void add(Hypothesis h) {
        if (heap.size() < capacity) {
            heap.add(h);
        } else if (h.score() > heap.peek().score()) {
            heap.poll();
            heap.add(h);
        }
    }

    boolean isFull() {
        return heap.size() >= capacity;
    }

    double worstScore() {
        return heap.isEmpty() ? Double.NEGATIVE_INFINITY : heap.peek().score();
    }

    int size() {
        return heap.size();
    }

    /** The highest score (ties resolve by heap order, which is deterministic for a given run). */
    Hypothesis best() {
        Hypothesis best = null;
        for (Hypothesis h : heap) {
            if (best == null || h.score() > best.score()) {
                best = h;
            }
        }
        return best;
    }
}
