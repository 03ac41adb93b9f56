package io.quant4j.tokenizer;

/**
 * The merges a BPE vocabulary allows: (left token id, right token id) → merged token id and its rank (lower merges
 * first). An open-addressing table keyed by the id pair, so the merge loop builds no strings.
 */
final class MergeTable {
    private static final long EMPTY = -1L; // ids are non-negative, so no real key is negative

    private long[] keys;
    private int[] results;
    private float[] ranks;
    private int size;
    private int mask;

    MergeTable(int expectedEntries) {
        int capacity = Integer.highestOneBit(Math.max(16, expectedEntries * 2 - 1)) << 1;
        keys = new long[capacity];
        java.util.Arrays.fill(keys, EMPTY);
        results = new int[capacity];
        ranks = new float[capacity];
        mask = capacity - 1;
    }

    private static long key(int left, int right) {
        return ((long) left << 32) | (right & 0xFFFFFFFFL);
    }

    private static int hash(long key) {
        long h = key * 0x9E3779B97F4A7C15L;
        return (int) (h ^ (h >>> 29));
    }

    /** Adds a merge unless the pair is already there (the first, best-ranked entry wins). */
    void putIfAbsent(int left, int right, int result, float rank) {
        if ((size + 1) * 2 > keys.length) {
            grow();
        }
        long k = key(left, right);
        int slot = hash(k) & mask;
        while (keys[slot] != EMPTY) {
            if (keys[slot] == k) {
                return;
            }
            slot = (slot + 1) & mask;
        }
        keys[slot] = k;
        results[slot] = result;
        ranks[slot] = rank;
        size++;
    }

    /** The slot holding the pair's merge, or -1 when the pair does not merge. */
    int find(int left, int right) {
        long k = key(left, right);
        int slot = hash(k) & mask;
        while (true) {
            long at = keys[slot];
            if (at == k) {
                return slot;
            }
            if (at == EMPTY) {
                return -1;
            }
            slot = (slot + 1) & mask;
        }
    }

    int result(int slot) {
        return results[slot];
    }

    float rank(int slot) {
        return ranks[slot];
    }

    int size() {
        return size;
    }

    private void grow() {
        long[] oldKeys = keys;
        int[] oldResults = results;
        float[] oldRanks = ranks;
        int capacity = oldKeys.length * 2;
        keys = new long[capacity];
        java.util.Arrays.fill(keys, EMPTY);
        results = new int[capacity];
        ranks = new float[capacity];
        mask = capacity - 1;
        size = 0;
        for (int i = 0; i < oldKeys.length; i++) {
            if (oldKeys[i] != EMPTY) {
                int left = (int) (oldKeys[i] >>> 32);
                int right = (int) oldKeys[i];
                putIfAbsent(left, right, oldResults[i], oldRanks[i]);
            }
        }
    }

    /** Calls {@code visit.accept(result token, rank)} for every merge. */
    void forEach(ResultRank visit) {
        for (int s = 0; s < keys.length; s++) {
            if (keys[s] != EMPTY) {
                visit.accept(results[s], ranks[s]);
            }
        }
    }

    interface ResultRank {
        void accept(int result, float rank);
    }

    /** Merges as llama.cpp's "left right" strings, best rank first (for writing GGUF). */
    java.util.List<String> mergeTexts(java.util.function.IntFunction<String> text) {
        java.util.List<Integer> slots = new java.util.ArrayList<>(size);
        for (int s = 0; s < keys.length; s++) {
            if (keys[s] != EMPTY) {
                slots.add(s);
            }
        }
        slots.sort((a, b) -> Float.compare(ranks[a], ranks[b]));
        java.util.List<String> out = new java.util.ArrayList<>(slots.size());
        for (int s : slots) {
            out.add(text.apply((int) (keys[s] >>> 32)) + " " + text.apply((int) keys[s]));
        }
        return out;
    }
}
