package io.quant4j.sampling;

/**
 * Orders token ids by logit, highest first, with the lower id first among equal logits (so results do not depend
 * on scan order). Partial selection uses a bounded min-heap: O(V log k) instead of sorting the whole vocabulary.
 */
final class TokenRanking {
    private TokenRanking() {
    }

    /** The id of the highest logit; the lowest such id on ties. */
    static int argmax(float[] logits) {
        int best = 0;
        for (int i = 1; i < logits.length; i++) {
            if (logits[i] > logits[best]) {
                best = i;
            }
        }
        return best;
    }

    /** Writes the {@code k} best ids, best first, into {@code out[0..k)}; returns k (capped at the vocabulary). */
    static int top(float[] logits, int k, int[] out) {
        k = Math.min(k, logits.length);
        if (k <= 0) {
            return 0;
        }
        for (int i = 0; i < k; i++) {
            out[i] = i;
        }
        heapify(logits, out, k);
        for (int i = k; i < logits.length; i++) {
            if (ranksBelow(logits, out[0], i)) {
                out[0] = i;
                siftDown(logits, out, k, 0);
            }
        }
        drainDescending(logits, out, k);
        return k;
    }

    /** Sorts {@code ids[0..n)} best first (heapsort: in place, no boxing). */
    static void sortDescending(float[] logits, int[] ids, int n) {
        heapify(logits, ids, n);
        drainDescending(logits, ids, n);
    }

    /** True when token a ranks below token b. */
    private static boolean ranksBelow(float[] logits, int a, int b) {
        return logits[a] < logits[b] || (logits[a] == logits[b] && a > b);
    }

    // The heap keeps its lowest-ranked id at the root, so the root is what a better newcomer replaces.
    private static void heapify(float[] logits, int[] heap, int size) {
        for (int i = size / 2 - 1; i >= 0; i--) {
            siftDown(logits, heap, size, i);
        }
    }

    private static void siftDown(float[] logits, int[] heap, int size, int i) {
        int id = heap[i];
        while (true) {
            int child = 2 * i + 1;
            if (child >= size) {
                break;
            }
            if (child + 1 < size && ranksBelow(logits, heap[child + 1], heap[child])) {
                child++;
            }
            if (!ranksBelow(logits, heap[child], id)) {
                break;
            }
            heap[i] = heap[child];
            i = child;
        }
        heap[i] = id;
    }

    /** Moves the lowest-ranked id to the back repeatedly, which leaves the array best first. */
    private static void drainDescending(float[] logits, int[] heap, int size) {
        for (int end = size - 1; end > 0; end--) {
            int worst = heap[0];
            heap[0] = heap[end];
            heap[end] = worst;
            siftDown(logits, heap, end, 0);
        }
    }
}
