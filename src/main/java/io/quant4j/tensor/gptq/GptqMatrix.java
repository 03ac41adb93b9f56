package io.quant4j.tensor.gptq;

import io.quant4j.tensor.WeightMatrix;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.Arrays;

/**
 * A GPTQ linear layer read in place from AutoGPTQ's tensors: {@code qweight} int32 [words(K), N] (codes packed
 * along the input dimension), {@code qzeros} int32 [G, words(N)], {@code scales} fp16 [G, N] and the group of every
 * input column. Row r of this matrix is output feature r: W[r, k] = scale[g(k), r] · (q[k, r] − zero[g(k), r]),
 * where the stored zero is one less than the true zero in AutoGPTQ's v1 checkpoints ({@code zeroOffset} 1) and the
 * true zero in v2 ({@code zeroOffset} 0).
 *
 * <p>Because words hold consecutive input columns of one output feature and neighbouring words belong to
 * neighbouring outputs, the kernel computes a tile of outputs at once: it loads one word per output as a vector,
 * shifts codes out lane-wise and accumulates code·x per group, then applies each group's scale and zero once
 * (Σ s·(q−z)·x = s·(Σ q·x − z·Σ x)). Act-order checkpoints, whose groups are scattered over the input columns,
 * are reordered once at load so that groups are contiguous; the activations are gathered into that order.
 */
public final class GptqMatrix extends WeightMatrix {
    private static final VectorSpecies<Integer> IS = IntVector.SPECIES_PREFERRED;
    private static final VectorSpecies<Float> FS = FloatVector.SPECIES_PREFERRED;
    private static final ValueLayout.OfShort F16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private final int bits;
    private final int mask;
    private final MemorySegment qweight;
    private final MemorySegment qzeros;
    private final MemorySegment scales;
    private final int zeroWords;
    private final int zeroOffset;
    /** Stored input column kk holds original column kPerm[kk]; null when stored in the original order. */
    private final int[] kPerm;
    /** Run i covers stored columns [runStart[i], runStart[i+1]) and belongs to group runGroup[i]. */
    private final int[] runStart;
    private final int[] runGroup;
    private final int groups;

    private GptqMatrix(String format, int bits, int rows, int cols, MemorySegment qweight, MemorySegment qzeros,
                       MemorySegment scales, int groups, int zeroOffset, int[] kPerm, int[] runStart, int[] runGroup) {
        super(format, rows, cols);
        this.bits = bits;
        this.mask = (1 << bits) - 1;
        this.qweight = qweight;
        this.qzeros = qzeros;
        this.scales = scales;
        this.groups = groups;
        this.zeroWords = GptqPacking.words(rows, bits);
        this.zeroOffset = zeroOffset;
        this.kPerm = kPerm;
        this.runStart = runStart;
        this.runGroup = runGroup;
    }

    /**
     * Wraps checked tensors of an [N out × K in] layer. {@code gIdx[k]} is the group of input column k (any order:
     * act-order checkpoints are repacked into {@code arena} so that groups are contiguous).
     */
    public static GptqMatrix of(int bits, int outFeatures, int inFeatures, MemorySegment qweight, MemorySegment qzeros,
                                MemorySegment scales, int groups, int[] gIdx, int zeroOffset, Arena arena) {
        if (!GptqPacking.supportedBits(bits)) {
            throw new IllegalArgumentException("GPTQ bits must be 2, 3, 4 or 8, got " + bits);
        }
        int n = outFeatures;
        int k = inFeatures;
        requireBytes("qweight", qweight, 4L * GptqPacking.words(k, bits) * n);
        requireBytes("qzeros", qzeros, 4L * groups * GptqPacking.words(n, bits));
        requireBytes("scales", scales, 2L * groups * n);
        if (gIdx.length != k) {
            throw new IllegalArgumentException("g_idx has " + gIdx.length + " entries for " + k + " input features");
        }
        for (int g : gIdx) {
            if (g < 0 || g >= groups) {
                throw new IllegalArgumentException("g_idx holds group " + g + " outside 0.." + (groups - 1));
            }
        }
        int[] perm = null;
        int[] order = gIdx;
        if (!nonDecreasing(gIdx)) {
            perm = stableOrderByGroup(gIdx);
            order = new int[k];
            for (int i = 0; i < k; i++) {
                order[i] = gIdx[perm[i]];
            }
            qweight = reorderInputs(qweight, perm, n, bits, arena);
        }
        int runs = 1;
        for (int i = 1; i < k; i++) {
            if (order[i] != order[i - 1]) {
                runs++;
            }
        }
        int[] runStart = new int[k == 0 ? 1 : runs + 1];
        int[] runGroup = new int[k == 0 ? 0 : runs];
        int r = 0;
        for (int i = 0; i < k; i++) {
            if (i == 0 || order[i] != order[i - 1]) {
                runStart[r] = i;
                runGroup[r] = order[i];
                r++;
            }
        }
        runStart[runStart.length - 1] = k;
        String format = "GPTQ " + bits + "-bit " + (groups == 1 ? "per-channel" : "g" + Math.ceilDiv(k, groups))
                + (perm != null ? " act-order" : "");
        return new GptqMatrix(format, bits, n, k, qweight, qzeros, scales, groups, zeroOffset, perm, runStart, runGroup);
    }

    private static void requireBytes(String what, MemorySegment s, long bytes) {
        if (s.byteSize() != bytes) {
            throw new IllegalArgumentException(what + " holds " + s.byteSize() + " bytes, the layout needs " + bytes);
        }
    }

    private static boolean nonDecreasing(int[] a) {
        for (int i = 1; i < a.length; i++) {
            if (a[i] < a[i - 1]) {
                return false;
            }
        }
        return true;
    }

    private static int[] stableOrderByGroup(int[] gIdx) {
        Integer[] idx = new Integer[gIdx.length];
        for (int i = 0; i < idx.length; i++) {
            idx[i] = i;
        }
        Arrays.sort(idx, (a, b) -> Integer.compare(gIdx[a], gIdx[b]));
        int[] out = new int[idx.length];
        for (int i = 0; i < out.length; i++) {
            out[i] = idx[i];
        }
        return out;
    }

    /** qweight with stored input column kk taken from source column perm[kk]. */
    private static MemorySegment reorderInputs(MemorySegment src, int[] perm, int n, int bits, Arena arena) {
        int k = perm.length;
        int words = GptqPacking.words(k, bits);
        int[] column = new int[words];
        MemorySegment dst = arena.allocate(4L * words * n, 64);
        for (int col = 0; col < n; col++) {
            Arrays.fill(column, 0);
            for (int kk = 0; kk < k; kk++) {
                GptqPacking.insert(column, 0, 1, kk, bits, GptqPacking.extract(src, col, n, perm[kk], bits));
            }
            for (int w = 0; w < words; w++) {
                dst.set(GptqPacking.I32, 4L * ((long) w * n + col), column[w]);
            }
        }
        return dst;
    }

    /**
     * Whether every 32-column block of every row is exactly a ggml Q4_0 (4 bits) or Q8_0 (8 bits) block: symmetric
     * zero points (8 or 128), columns in their own order, groups made of whole 32-column blocks. Then
     * {@link #writeGgmlRow} copies scales and codes without any rounding.
     */
    public boolean mapsExactlyOnto(io.quant4j.tensor.GgmlType type) {
        int want = switch (type) {
            case Q4_0 -> 4;
            case Q8_0 -> 8;
            default -> -1;
        };
        if (bits != want || kPerm != null || cols % 32 != 0) {
            return false;
        }
        for (int run = 1; run < runGroup.length; run++) {
            if (runStart[run] % 32 != 0) {
                return false;
            }
        }
        int center = 1 << (bits - 1);
        for (int g = 0; g < groups; g++) {
            for (int r = 0; r < rows; r++) {
                if (zero(g, r) != center) {
                    return false;
                }
            }
        }
        return true;
    }

    /** Row {@code row} as Q4_0 / Q8_0 blocks at {@code dst[offset]}; only when {@link #mapsExactlyOnto} says so. */
    public void writeGgmlRow(io.quant4j.tensor.GgmlType type, int row, MemorySegment dst, long offset) {
        int run = 0;
        for (int b = 0; b < cols / 32; b++) {
            int k0 = b * 32;
            while (runStart[run + 1] <= k0) {
                run++;
            }
            short d = scales.get(F16, 2L * ((long) runGroup[run] * rows + row));
            if (type == io.quant4j.tensor.GgmlType.Q4_0) {
                long at = offset + 18L * b;
                dst.set(F16, at, d);
                for (int j = 0; j < 16; j++) {
                    dst.set(ValueLayout.JAVA_BYTE, at + 2 + j, (byte) (code(k0 + j, row) | code(k0 + j + 16, row) << 4));
                }
            } else {
                long at = offset + 34L * b;
                dst.set(F16, at, d);
                for (int j = 0; j < 32; j++) {
                    dst.set(ValueLayout.JAVA_BYTE, at + 2 + j, (byte) (code(k0 + j, row) - 128));
                }
            }
        }
    }

    public int bits() {
        return bits;
    }

    public int groups() {
        return groups;
    }

    private int code(int storedK, int row) {
        return GptqPacking.extract(qweight, row, cols == 0 ? 0 : rows, storedK, bits);
    }

    private float scale(int group, int row) {
        return Float.float16ToFloat(scales.get(F16, 2L * ((long) group * rows + row)));
    }

    private int zero(int group, int row) {
        return GptqPacking.extract(qzeros, (long) group * zeroWords, 1, row, bits) + zeroOffset;
    }

    /** qweight, qzeros and scales. */
    @Override
    public long storageBytes() {
        return qweight.byteSize() + qzeros.byteSize() + scales.byteSize();
    }

    @Override
    public void dequantizeRow(int row, float[] out, int outOffset) {
        for (int run = 0; run < runGroup.length; run++) {
            int g = runGroup[run];
            float s = scale(g, row);
            int z = zero(g, row);
            for (int kk = runStart[run]; kk < runStart[run + 1]; kk++) {
                int k = kPerm == null ? kk : kPerm[kk];
                out[outOffset + k] = s * (code(kk, row) - z);
            }
        }
    }

    /** Scalar reference: Σ_k W[row, k]·x[k] with W dequantized element by element. */
    @Override
    public float dot(int row, float[] x, int xOffset) {
        float sum = 0f;
        for (int run = 0; run < runGroup.length; run++) {
            int g = runGroup[run];
            float s = scale(g, row);
            int z = zero(g, row);
            for (int kk = runStart[run]; kk < runStart[run + 1]; kk++) {
                int k = kPerm == null ? kk : kPerm[kk];
                sum += s * (code(kk, row) - z) * x[xOffset + k];
            }
        }
        return sum;
    }

    private static final ThreadLocal<float[][]> SCRATCH = ThreadLocal.withInitial(() -> new float[3][0]);

    @Override
    public void matVec(float[] x, float[] out, int from, int to) {
        float[][] scratch = SCRATCH.get();
        if (scratch[0].length < cols) {
            scratch[0] = new float[cols];
        }
        if (scratch[1].length < runGroup.length) {
            scratch[1] = new float[runGroup.length];
        }
        if (scratch[2].length < IS.length()) {
            scratch[2] = new float[IS.length()];
        }
        float[] xs = x;
        if (kPerm != null) {
            xs = scratch[0];
            for (int kk = 0; kk < cols; kk++) {
                xs[kk] = x[kPerm[kk]];
            }
        }
        float[] runSum = scratch[1];
        for (int run = 0; run < runGroup.length; run++) {
            float s = 0f;
            for (int kk = runStart[run]; kk < runStart[run + 1]; kk++) {
                s += xs[kk];
            }
            runSum[run] = s;
        }
        int lanes = IS.length();
        int r = from;
        for (; r + lanes <= to; r += lanes) {
            tile(xs, runSum, out, r, scratch[2]);
        }
        for (; r < to; r++) {
            out[r] = dotStored(xs, runSum, r);
        }
    }

    private static final ThreadLocal<float[][]> TOKEN = ThreadLocal.withInitial(() -> new float[2][0]);

    /**
     * A batch runs the matrix-vector kernel once per token: unpacking the codes into float panels for the shared
     * GEMM path goes value by value here (dequantizeRow), about three times slower on TinyLlama's shapes (prompt of
     * 16 tokens: 1.24 t/s through panels).
     */
    @Override
    public void matMul(float[] x, int n, float[] out, int outStride, int from, int to) {
        float[][] t = TOKEN.get();
        if (t[0].length < cols) {
            t[0] = new float[cols];
        }
        if (t[1].length < rows) {
            t[1] = new float[rows];
        }
        for (int i = 0; i < n; i++) {
            System.arraycopy(x, i * cols, t[0], 0, cols);
            matVec(t[0], t[1], from, to);
            System.arraycopy(t[1], from, out, i * outStride + from, to - from);
        }
    }

    /** One output at a time, for the rows a vector tile does not cover. */
    private float dotStored(float[] xs, float[] runSum, int row) {
        float sum = 0f;
        for (int run = 0; run < runGroup.length; run++) {
            float acc = 0f;
            for (int kk = runStart[run]; kk < runStart[run + 1]; kk++) {
                acc += code(kk, row) * xs[kk];
            }
            int g = runGroup[run];
            sum += scale(g, row) * (acc - zero(g, row) * runSum[run]);
        }
        return sum;
    }

    /**
     * Outputs [row0, row0 + lanes): codes of one word per lane, groups applied when a run ends. The 2/4/8-bit and
     * 3-bit layouts are separate methods, and a run's accumulator leaves through an array, never as an argument: a
     * method holding both loops, or a vector passed to a call C2 did not inline, passes C2's inlining budget and
     * every vector is then boxed on the heap (63 MB per TinyLlama token measured).
     */
    private void tile(float[] xs, float[] runSum, float[] out, int row0, float[] lanesBuf) {
        float[] total = TOTAL.get();
        java.util.Arrays.fill(total, 0, IS.length(), 0f);
        if (32 % bits == 0) {
            tileWholeWords(xs, runSum, row0, lanesBuf, total);
        } else {
            tileThreeBit(xs, runSum, row0, lanesBuf, total);
        }
        System.arraycopy(total, 0, out, row0, IS.length());
    }

    private static final ThreadLocal<float[]> TOTAL = ThreadLocal.withInitial(() -> new float[IS.length()]);

    private void tileWholeWords(float[] xs, float[] runSum, int row0, float[] lanesBuf, float[] total) {
        FloatVector acc = FloatVector.zero(FS);
        int run = 0;
        int runEnd = runStart[1];
        long rowStride = 4L * rows;
        long base = 4L * row0;
        int perWord = 32 / bits;
        int k = 0;
        while (k < cols) {
            IntVector w = IntVector.fromMemorySegment(IS, qweight, base + (k / perWord) * rowStride, ByteOrder.LITTLE_ENDIAN);
            int end = Math.min(k + perWord, cols);
            for (int j = 0; k < end; j++, k++) {
                if (k == runEnd) {
                    acc.intoArray(lanesBuf, 0);
                    flush(run, row0, runSum, total, lanesBuf);
                    acc = FloatVector.zero(FS);
                    run++;
                    runEnd = runStart[run + 1];
                }
                IntVector c = w.lanewise(VectorOperators.LSHR, j * bits).and(mask);
                acc = ((FloatVector) c.convert(VectorOperators.I2F, 0)).fma(FloatVector.broadcast(FS, xs[k]), acc);
            }
        }
        if (cols > 0) {
            acc.intoArray(lanesBuf, 0);
            flush(run, row0, runSum, total, lanesBuf);
        }
    }

    /** 3 bits: a run of 32 codes spans 3 words; codes 10 and 21 straddle two words. */
    private void tileThreeBit(float[] xs, float[] runSum, int row0, float[] lanesBuf, float[] total) {
        FloatVector acc = FloatVector.zero(FS);
        int run = 0;
        int runEnd = runStart[1];
        long rowStride = 4L * rows;
        long base = 4L * row0;
        int k = 0;
        while (k < cols) {
            long w0 = base + (k / 32 * 3L) * rowStride;
            IntVector a = IntVector.fromMemorySegment(IS, qweight, w0, ByteOrder.LITTLE_ENDIAN);
            IntVector b = IntVector.fromMemorySegment(IS, qweight, w0 + rowStride, ByteOrder.LITTLE_ENDIAN);
            IntVector d = IntVector.fromMemorySegment(IS, qweight, w0 + 2 * rowStride, ByteOrder.LITTLE_ENDIAN);
            int end = Math.min(k + 32, cols);
            for (int j = 0; k < end; j++, k++) {
                if (k == runEnd) {
                    acc.intoArray(lanesBuf, 0);
                    flush(run, row0, runSum, total, lanesBuf);
                    acc = FloatVector.zero(FS);
                    run++;
                    runEnd = runStart[run + 1];
                }
                int bit = 3 * j;
                IntVector c;
                if (bit + 3 <= 32) {
                    c = a.lanewise(VectorOperators.LSHR, bit);
                } else if (bit < 32) {
                    c = a.lanewise(VectorOperators.LSHR, bit).or(b.lanewise(VectorOperators.LSHL, 32 - bit));
                } else if (bit + 3 <= 64) {
                    c = b.lanewise(VectorOperators.LSHR, bit - 32);
                } else if (bit < 64) {
                    c = b.lanewise(VectorOperators.LSHR, bit - 32).or(d.lanewise(VectorOperators.LSHL, 64 - bit));
                } else {
                    c = d.lanewise(VectorOperators.LSHR, bit - 64);
                }
                acc = ((FloatVector) c.and(mask).convert(VectorOperators.I2F, 0)).fma(FloatVector.broadcast(FS, xs[k]), acc);
            }
        }
        if (cols > 0) {
            acc.intoArray(lanesBuf, 0);
            flush(run, row0, runSum, total, lanesBuf);
        }
    }

    /** Adds one run's lane sums ({@code lanesBuf}) with its group's scale and zero to {@code total}. */
    private void flush(int run, int row0, float[] runSum, float[] total, float[] lanesBuf) {
        int g = runGroup[run];
        for (int i = 0; i < IS.length(); i++) {
            int row = row0 + i;
            total[i] += scale(g, row) * (lanesBuf[i] - zero(g, row) * runSum[run]);
        }
    }
}
