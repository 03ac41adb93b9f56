package io.quant4j.tokenizer;

import java.util.Arrays;

/**
 * The BPE merge loop shared by both tokenizer kinds. The text is cut into symbols (characters, or mapped bytes),
 * then the best adjacent pair is merged again and again: lowest rank first, the leftmost pair on ties, as
 * llama.cpp's SentencePiece and BPE sessions do. Candidate pairs sit in a binary heap; a popped pair whose
 * symbols changed since it was queued is skipped, so each merge costs O(log n) rather than a rescan.
 * An instance holds the work arrays of one encode call (reused across its words), so it is not shared.
 */
final class SymbolMerger {
    /** Looks up a pair one of whose symbols has no token id (SentencePiece compares texts, so such pairs may merge). */
    interface TextFallback {
        /** The token for the concatenated text, or -1. */
        int tokenFor(String text);

        /** The rank of a merge producing that token. */
        float rank(int token);
    }

    private final MergeTable merges;
    private final TextFallback fallback;

    private String text;
    private int count;
    private int[] ids = new int[64];
    private int[] starts = new int[64];
    private int[] lengths = new int[64];
    private int[] prev = new int[64];
    private int[] next = new int[64];

    // Candidate heap, two longs per entry: (rank, left) as one sortable key, and (merged length, result id).
    // The right symbol is not stored: while a candidate is still valid it is next[left].
    private int heapSize;
    private boolean buildingHeap;
    private long[] heapKey = new long[64];
    private long[] heapValue = new long[64];

    SymbolMerger(MergeTable merges, TextFallback fallback) {
        this.merges = merges;
        this.fallback = fallback;
    }

    /** Starts a new text; symbols are then added left to right with {@link #add}. */
    void reset(String text) {
        this.text = text;
        count = 0;
        heapSize = 0;
    }

    /** Appends the symbol text[start, start+length) whose token id is id (-1 when it is not a token). */
    void add(int start, int length, int id) {
        if (count == ids.length) {
            int n = count * 2;
            ids = Arrays.copyOf(ids, n);
            starts = Arrays.copyOf(starts, n);
            lengths = Arrays.copyOf(lengths, n);
            prev = Arrays.copyOf(prev, n);
            next = Arrays.copyOf(next, n);
        }
        ids[count] = id;
        starts[count] = start;
        lengths[count] = length;
        prev[count] = count - 1;
        next[count] = count + 1;
        count++;
    }

    void mergeAll() {
        if (count == 0) {
            return;
        }
        next[count - 1] = -1;
        // queue the initial pairs unordered, then heapify in one linear pass
        buildingHeap = true;
        for (int i = 1; i < count; i++) {
            tryQueue(i - 1, i);
        }
        buildingHeap = false;
        for (int i = heapSize / 2 - 1; i >= 0; i--) {
            siftDown(i, heapKey[i], heapValue[i], heapSize);
        }
        while (heapSize > 0) {
            int left = (int) heapKey[0];
            int length = (int) (heapValue[0] >>> 32);
            int result = (int) heapValue[0];
            pop();
            int right = next[left];
            // skip candidates made stale by an earlier merge of either symbol: their lengths no longer add up
            if (lengths[left] == 0 || right < 0 || lengths[left] + lengths[right] != length) {
                continue;
            }
            lengths[left] = length;
            lengths[right] = 0;
            ids[left] = result;
            next[left] = next[right];
            if (next[right] >= 0) {
                prev[next[right]] = left;
            }
            tryQueue(prev[left], left);
            tryQueue(left, next[left]);
        }
    }

    /** The first symbol after merging (-1 if there are none); then follow {@link #next(int)}. */
    int first() {
        return count == 0 ? -1 : 0;
    }

    int next(int symbol) {
        return next[symbol];
    }

    int id(int symbol) {
        return ids[symbol];
    }

    String text(int symbol) {
        return text.substring(starts[symbol], starts[symbol] + lengths[symbol]);
    }

    private void tryQueue(int left, int right) {
        if (left < 0 || right < 0) {
            return;
        }
        int l = ids[left];
        int r = ids[right];
        int result;
        float rank;
        if (l >= 0 && r >= 0) {
            int slot = merges.find(l, r);
            if (slot < 0) {
                return;
            }
            result = merges.result(slot);
            rank = merges.rank(slot);
        } else if (fallback != null) {
            result = fallback.tokenFor(text.substring(starts[left], starts[right] + lengths[right]));
            if (result < 0) {
                return;
            }
            rank = fallback.rank(result);
        } else {
            return;
        }
        push(sortable(rank), left, lengths[left] + lengths[right], result);
    }

    /** Float bits reordered so that comparing them as ints orders the floats. */
    private static long sortable(float rank) {
        int bits = Float.floatToIntBits(rank + 0.0f); // + 0.0f turns -0.0 into 0.0
        return bits < 0 ? bits ^ 0x7FFFFFFF : bits;
    }

    private void push(long sortableRank, int left, int length, int result) {
        long key = (sortableRank << 32) | left; // lower rank first, then the leftmost pair
        long value = ((long) length << 32) | (result & 0xFFFFFFFFL);
        if (heapSize == heapKey.length) {
            heapKey = Arrays.copyOf(heapKey, heapSize * 2);
            heapValue = Arrays.copyOf(heapValue, heapSize * 2);
        }
        int i = heapSize++;
        while (i > 0 && !buildingHeap) {
            int parent = (i - 1) >>> 1;
            if (heapKey[parent] <= key) {
                break;
            }
            heapKey[i] = heapKey[parent];
            heapValue[i] = heapValue[parent];
            i = parent;
        }
        heapKey[i] = key;
        heapValue[i] = value;
    }

    private void pop() {
        int last = --heapSize;
        if (last == 0) {
            return;
        }
        siftDown(0, heapKey[last], heapValue[last], last);
    }

    /** Places (key, value) at or below slot i of a heap of the given size. */
    private void siftDown(int i, long key, long value, int size) {
        int last = size;
        while (true) {
            int child = 2 * i + 1;
            if (child >= last) {
                break;
            }
            if (child + 1 < last && heapKey[child + 1] < heapKey[child]) {
                child++;
            }
            if (heapKey[child] >= key) {
                break;
            }
            heapKey[i] = heapKey[child];
            heapValue[i] = heapValue[child];
            i = child;
        }
        heapKey[i] = key;
        heapValue[i] = value;
    }
}
