package io.quant4j.tokenizer;

import java.util.Arrays;

/**
 * The BPE merge loop shared by both tokenizer kinds. The text is cut into symbols (characters, or mapped bytes),
 * then the best adjacent pair is merged again and again: lowest rank first, the leftmost pair on ties, as
 * llama.cpp's SentencePiece and BPE sessions do. Candidate pairs sit in a binary heap; a popped pair whose
 * symbols changed since it was queued is skipped, so each merge costs O(log n) rather than a rescan.
 * One instance is reused across calls (not thread-safe).
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

    // candidate heap as parallel arrays (no object per candidate)
    private int heapSize;
    private float[] heapRank = new float[64];
    private int[] heapLeft = new int[64];
    private int[] heapRight = new int[64];
    private int[] heapLength = new int[64];
    private int[] heapResult = new int[64];

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
        for (int i = 1; i < count; i++) {
            tryQueue(i - 1, i);
        }
        while (heapSize > 0) {
            int left = heapLeft[0];
            int right = heapRight[0];
            int length = heapLength[0];
            int result = heapResult[0];
            pop();
            // skip pairs made stale by an earlier merge of either symbol
            if (lengths[left] == 0 || lengths[right] == 0 || lengths[left] + lengths[right] != length) {
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
        push(rank, left, right, lengths[left] + lengths[right], result);
    }

    private static boolean before(float rankA, int leftA, float rankB, int leftB) {
        return rankA < rankB || (rankA == rankB && leftA < leftB);
    }

    private void push(float rank, int left, int right, int length, int result) {
        if (heapSize == heapRank.length) {
            int n = heapSize * 2;
            heapRank = Arrays.copyOf(heapRank, n);
            heapLeft = Arrays.copyOf(heapLeft, n);
            heapRight = Arrays.copyOf(heapRight, n);
            heapLength = Arrays.copyOf(heapLength, n);
            heapResult = Arrays.copyOf(heapResult, n);
        }
        int i = heapSize++;
        while (i > 0) {
            int parent = (i - 1) >>> 1;
            if (!before(rank, left, heapRank[parent], heapLeft[parent])) {
                break;
            }
            move(parent, i);
            i = parent;
        }
        set(i, rank, left, right, length, result);
    }

    private void pop() {
        int last = --heapSize;
        if (last == 0) {
            return;
        }
        float rank = heapRank[last];
        int left = heapLeft[last];
        int right = heapRight[last];
        int length = heapLength[last];
        int result = heapResult[last];
        int i = 0;
        while (true) {
            int child = 2 * i + 1;
            if (child >= last) {
                break;
            }
            if (child + 1 < last && before(heapRank[child + 1], heapLeft[child + 1], heapRank[child], heapLeft[child])) {
                child++;
            }
            if (!before(heapRank[child], heapLeft[child], rank, left)) {
                break;
            }
            move(child, i);
            i = child;
        }
        set(i, rank, left, right, length, result);
    }

    private void move(int from, int to) {
        heapRank[to] = heapRank[from];
        heapLeft[to] = heapLeft[from];
        heapRight[to] = heapRight[from];
        heapLength[to] = heapLength[from];
        heapResult[to] = heapResult[from];
    }

    private void set(int i, float rank, int left, int right, int length, int result) {
        heapRank[i] = rank;
        heapLeft[i] = left;
        heapRight[i] = right;
        heapLength[i] = length;
        heapResult[i] = result;
    }
}
