package io.quant4j.tensor.gptq;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * The four tensors of one AutoGPTQ linear layer, as stored: {@code qweight} int32 [words(in), out],
 * {@code qzeros} int32 [groups, words(out)], {@code scales} fp16 [groups, out], {@code g_idx} int32 [in]. Stored
 * zeros are offset: the true zero is {@code stored + zeroOffset}
 * (1 for AutoGPTQ's v1 "gptq" format, 0 for "gptq_v2").
 */
public record GptqLayer(int bits, int outFeatures, int inFeatures, int groups, MemorySegment qweight,
                        MemorySegment qzeros, MemorySegment scales, int[] gIdx, int zeroOffset) {

    public long[] qweightShape() {
        return new long[] {GptqPacking.words(inFeatures, bits), outFeatures};
    }

    public long[] qzerosShape() {
        return new long[] {groups, GptqPacking.words(outFeatures, bits)};
    }

    public long[] scalesShape() {
        return new long[] {groups, outFeatures};
    }

    /** The matrix computing with these tensors (act-order layers are reordered into {@code arena}). */
    public GptqMatrix matrix(Arena arena) {
        return GptqMatrix.of(bits, outFeatures, inFeatures, qweight, qzeros, scales, groups, gIdx, zeroOffset, arena);
    }

    /**
     * The same layer with output feature r taken from output {@code from[r]} (q/k rows between Hugging Face's and
     * quant4j's orders): qweight and scales columns are moved, qzeros repacked; copies live in {@code arena}.
     */
    public GptqLayer permuteOutputs(int[] from, Arena arena) {
        int n = outFeatures;
        if (from.length != n) {
            throw new IllegalArgumentException("permutation of " + from.length + " for " + n + " outputs");
        }
        int wordsK = GptqPacking.words(inFeatures, bits);
        MemorySegment qw = arena.allocate(qweight.byteSize(), 64);
        for (int w = 0; w < wordsK; w++) {
            for (int r = 0; r < n; r++) {
                qw.set(GptqPacking.I32, 4L * ((long) w * n + r), qweight.get(GptqPacking.I32, 4L * ((long) w * n + from[r])));
            }
        }
        MemorySegment sc = arena.allocate(scales.byteSize(), 64);
        for (int g = 0; g < groups; g++) {
            for (int r = 0; r < n; r++) {
                MemorySegment.copy(scales, 2L * ((long) g * n + from[r]), sc, 2L * ((long) g * n + r), 2);
            }
        }
        int wordsN = GptqPacking.words(n, bits);
        int[] row = new int[wordsN];
        MemorySegment qz = arena.allocate(qzeros.byteSize(), 64);
        for (int g = 0; g < groups; g++) {
            java.util.Arrays.fill(row, 0);
            for (int r = 0; r < n; r++) {
                GptqPacking.insert(row, 0, 1, r, bits, GptqPacking.extract(qzeros, (long) g * wordsN, 1, from[r], bits));
            }
            MemorySegment.copy(row, 0, qz, GptqPacking.I32, 4L * g * wordsN, wordsN);
        }
        return new GptqLayer(bits, outFeatures, inFeatures, groups, qw, qz, sc, gIdx, zeroOffset);
    }
}
