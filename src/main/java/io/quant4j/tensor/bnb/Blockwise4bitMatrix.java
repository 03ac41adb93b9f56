package io.quant4j.tensor.bnb;

import io.quant4j.tensor.Simd;
import io.quant4j.tensor.WeightMatrix;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * A bitsandbytes 4-bit (NF4 / FP4) weight read in place: the [out × in] weight flattened row-major, cut into
 * blocks of {@code blocksize} values (blocks may run across rows), each value a 4-bit index into the 16-value code
 * book, two per byte with the first value in the high nibble; W = code[index] · absmax[block]. With double
 * quantization absmax[b] = dynamicMap[qabsmax[b]] · nestedAbsmax[b / nestedBlocksize] + offset.
 *
 * <p>{@code rowOf} maps a row of this matrix to the stored row (q/k: quant4j's interleaved order over Hugging Face's
 * stored order), or is null.
 *
 * <p>{@link #dotVector} and {@link #dequantVector} are the Vector API kernels (16 values, 8 bytes, per inner
 * iteration; see {@link #indices}); {@link #dotScalar} and {@link #dequantScalar} are their references, used with
 * {@code -Dquant4j.simd=false} and compared with them by {@code Blockwise4bitMatrixTest}. Values before a block's
 * first whole 16 (a block starting on a low nibble) and after its last run through scalar code inside the kernels.
 */
public final class Blockwise4bitMatrix extends WeightMatrix {
    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    /** Per-block scales: plain floats, or 8-bit codes with their nested scales. */
    public record Absmax(MemorySegment values, MemorySegment codes, float[] codeMap, MemorySegment nestedAbsmax,
                         int nestedBlocksize, float offset) {
        public static Absmax plain(MemorySegment f32) {
            return new Absmax(f32, null, null, null, 0, 0f);
        }

        public static Absmax doubleQuantized(MemorySegment u8, float[] codeMap, MemorySegment nestedF32, int nestedBlocksize, float offset) {
            return new Absmax(null, u8, codeMap, nestedF32, nestedBlocksize, offset);
        }

        public boolean nested() {
            return codes != null;
        }

        public long count() {
            return nested() ? codes.byteSize() : values.byteSize() / 4;
        }

        public float get(long block) {
            if (!nested()) {
                return values.get(F32, 4 * block);
            }
            int q = codes.get(ValueLayout.JAVA_BYTE, block) & 0xFF;
            return codeMap[q] * nestedAbsmax.get(F32, 4 * (block / nestedBlocksize)) + offset;
        }
    }

    private final String quantType;
    private final float[] code;
    /** The code book's float bits, for the vector lookups (codes 0-7, then 8-15). */
    private final int[] codeBits;
    private final int blocksize;
    private final MemorySegment packed;
    private final Absmax absmax;
    private final int[] rowOf;

    public Blockwise4bitMatrix(String quantType, float[] code, int blocksize, MemorySegment packed, Absmax absmax,
                               int rows, int cols, int[] rowOf) {
        super((quantType.toUpperCase()) + " b" + blocksize + (absmax.nested() ? " +DQ" : ""), rows, cols);
        long n = (long) rows * cols;
        if (code.length != 16) {
            throw new IllegalArgumentException("a 4-bit code book has 16 values, got " + code.length);
        }
        if (packed.byteSize() != (n + 1) / 2) {
            throw new IllegalArgumentException("packed weight holds " + packed.byteSize() + " bytes, " + rows + "x" + cols + " needs " + (n + 1) / 2);
        }
        if (absmax.count() != Math.ceilDiv(n, blocksize)) {
            throw new IllegalArgumentException("absmax holds " + absmax.count() + " blocks, " + n + " values in blocks of " + blocksize
                    + " need " + Math.ceilDiv(n, blocksize));
        }
        if (rowOf != null && rowOf.length != rows) {
            throw new IllegalArgumentException("row map of " + rowOf.length + " for " + rows + " rows");
        }
        this.quantType = quantType;
        this.code = code.clone();
        this.codeBits = new int[16];
        for (int i = 0; i < 16; i++) {
            codeBits[i] = Float.floatToRawIntBits(this.code[i]);
        }
        this.blocksize = blocksize;
        this.packed = packed;
        this.absmax = absmax;
        this.rowOf = rowOf;
    }

    public String quantType() {
        return quantType;
    }

    public int blocksize() {
        return blocksize;
    }

    public MemorySegment packed() {
        return packed;
    }

    public Absmax absmax() {
        return absmax;
    }

    public float[] code() {
        return code.clone();
    }

    @Override
    public long storageBytes() {
        long scales = absmax.nested() ? absmax.codes().byteSize() + absmax.nestedAbsmax().byteSize() : absmax.values().byteSize();
        return packed.byteSize() + scales;
    }

    private long rowBase(int row) {
        return (long) (rowOf == null ? row : rowOf[row]) * cols;
    }

    @Override
    public float dot(int row, float[] x, int xOffset) {
        long base = rowBase(row);
        return Simd.ENABLED ? dotVector(packed, codeBits, code, absmax, blocksize, base, cols, x, xOffset)
                : dotScalar(packed, code, absmax, blocksize, base, cols, x, xOffset);
    }

    @Override
    public void matVec(float[] x, float[] out, int from, int to) {
        if (!Simd.ENABLED) {
            super.matVec(x, out, from, to);
            return;
        }
        for (int r = from; r < to; r++) {
            out[r] = dotVector(packed, codeBits, code, absmax, blocksize, rowBase(r), cols, x, 0);
        }
    }

    @Override
    public void dequantizeRow(int row, float[] out, int outOffset) {
        dequantizeRange(row, 0, cols, out, outOffset);
    }

    /** Reads only the columns asked for (the prefill GEMM asks for {@code Gemm.KC} at a time). */
    @Override
    public void dequantizeRange(int row, int fromCol, int count, float[] out, int outOffset) {
        long base = rowBase(row) + fromCol;
        if (Simd.ENABLED) {
            dequantVector(packed, codeBits, code, absmax, blocksize, base, count, out, outOffset);
        } else {
            dequantScalar(packed, code, absmax, blocksize, base, count, out, outOffset);
        }
    }

    /** The scalar reference for {@link #dequantizeRow}. */
    public void dequantizeRowScalar(int row, float[] out, int outOffset) {
        dequantScalar(packed, code, absmax, blocksize, rowBase(row), cols, out, outOffset);
    }

    /** The scalar reference for {@link #dot}. */
    public float dotScalar(int row, float[] x, int xOffset) {
        return dotScalar(packed, code, absmax, blocksize, rowBase(row), cols, x, xOffset);
    }

    private static int index(MemorySegment packed, long flat) {
        int b = packed.get(ValueLayout.JAVA_BYTE, flat >>> 1) & 0xFF;
        return (flat & 1) == 0 ? b >>> 4 : b & 15;
    }

    /** Scalar reference: Σ code[q]·x over values [base, base + n) of the flattened weight, each block's sum scaled once. */
    static float dotScalar(MemorySegment packed, float[] code, Absmax absmax, int blocksize, long base, int n, float[] x, int xOffset) {
        float sum = 0f;
        int j = 0;
        while (j < n) {
            long flat = base + j;
            long block = flat / blocksize;
            int end = (int) Math.min(n, (block + 1) * blocksize - base);
            float partial = 0f;
            if (((base + j) & 1) != 0 && j < end) { // a block starting on a low nibble: one value alone
                partial += code[index(packed, base + j)] * x[xOffset + j];
                j++;
            }
            for (; j + 1 < end; j += 2) { // one byte, two codes: high nibble first
                int b = packed.get(ValueLayout.JAVA_BYTE, (base + j) >>> 1) & 0xFF;
                partial += code[b >>> 4] * x[xOffset + j] + code[b & 15] * x[xOffset + j + 1];
            }
            for (; j < end; j++) {
                partial += code[index(packed, base + j)] * x[xOffset + j];
            }
            sum += partial * absmax.get(block);
        }
        return sum;
    }

    /** Scalar reference: values [base, base + n) of the flattened weight into out[outOffset..]. */
    static void dequantScalar(MemorySegment packed, float[] code, Absmax absmax, int blocksize, long base, int n, float[] out, int outOffset) {
        int j = 0;
        while (j < n) {
            long block = (base + j) / blocksize;
            int end = (int) Math.min(n, (block + 1) * blocksize - base);
            float a = absmax.get(block);
            for (; j < end; j++) {
                out[outOffset + j] = code[index(packed, base + j)] * a;
            }
        }
    }

    /**
     * The 16 code indices of the 8 bytes at {@code off}, in value order (high nibble first), as bytes: each byte
     * widened to a short lane s becomes (s >>> 4) | (s & 15) << 8, whose two bytes (little-endian) are the two values.
     */
    private static ByteVector indices(MemorySegment packed, long off) {
        ShortVector s = (ShortVector) ByteVector.fromMemorySegment(Simd.B8, packed, off, Simd.LE)
                .convertShape(VectorOperators.ZERO_EXTEND_B2S, Simd.S8, 0);
        return s.lanewise(VectorOperators.LSHR, 4).or(s.and((short) 15).lanewise(VectorOperators.LSHL, 8)).reinterpretAsBytes();
    }

    /**
     * Code values of 8 of the indices (part 0 or 1): two 8-entry table permutes (vpermd over codes 0-7 and 8-15,
     * which read the low 3 index bits) and a blend on bit 3. Faster than a two-table selectFrom or a gather
     * through an int[] on AVX2 (Zen 3: 0.24-0.27 vs 0.29-0.30 vs 0.68 ns per weight in a standalone dot).
     */
    private static FloatVector lookup(ByteVector idx, int part, IntVector lo, IntVector hi) {
        IntVector i = (IntVector) idx.convertShape(VectorOperators.ZERO_EXTEND_B2I, Simd.I, part);
        return i.selectFrom(lo).blend(i.selectFrom(hi), i.compare(VectorOperators.GT, 7)).reinterpretAsFloats();
    }

    /**
     * {@link #dotScalar} with 16 values per vector iteration: a block's vector sum is scaled once into the
     * accumulator; values outside whole 16s (odd starts, tails) are summed and scaled in scalar code.
     */
    static float dotVector(MemorySegment packed, int[] codeBits, float[] code, Absmax absmax, int blocksize, long base, int n,
                           float[] x, int xOffset) {
        IntVector lo = IntVector.fromArray(Simd.I, codeBits, 0);
        IntVector hi = IntVector.fromArray(Simd.I, codeBits, 8);
        FloatVector acc = FloatVector.zero(Simd.F);
        float rest = 0f;
        long block = base / blocksize;
        long blockEnd = (block + 1) * blocksize - base; // where this block ends, relative to base
        int j = 0;
        while (j < n) {
            int end = (int) Math.min(n, blockEnd);
            float partial = 0f;
            if (((base + j) & 1) != 0) { // a block starting on a low nibble: one value alone
                partial += code[index(packed, base + j)] * x[xOffset + j];
                j++;
            }
            FloatVector s = FloatVector.zero(Simd.F);
            long off = (base + j) >>> 1;
            int xo = xOffset + j;
            for (; j + 16 <= end; j += 16, off += 8, xo += 16) {
                ByteVector idx = indices(packed, off);
                s = lookup(idx, 0, lo, hi).fma(FloatVector.fromArray(Simd.F, x, xo), s);
                s = lookup(idx, 1, lo, hi).fma(FloatVector.fromArray(Simd.F, x, xo + 8), s);
            }
            for (; j < end; j++) {
                partial += code[index(packed, base + j)] * x[xOffset + j];
            }
            float a = absmax.get(block);
            acc = s.fma(FloatVector.broadcast(Simd.F, a), acc);
            rest += partial * a;
            block++;
            blockEnd += blocksize;
        }
        return Simd.sum(acc) + rest;
    }

    /** {@link #dequantScalar} with 16 values per vector iteration (odd starts and tails in scalar code). */
    static void dequantVector(MemorySegment packed, int[] codeBits, float[] code, Absmax absmax, int blocksize, long base, int n,
                              float[] out, int outOffset) {
        IntVector lo = IntVector.fromArray(Simd.I, codeBits, 0);
        IntVector hi = IntVector.fromArray(Simd.I, codeBits, 8);
        long block = base / blocksize;
        long blockEnd = (block + 1) * blocksize - base;
        int j = 0;
        while (j < n) {
            int end = (int) Math.min(n, blockEnd);
            float a = absmax.get(block);
            if (((base + j) & 1) != 0) {
                out[outOffset + j] = code[index(packed, base + j)] * a;
                j++;
            }
            FloatVector av = FloatVector.broadcast(Simd.F, a);
            long off = (base + j) >>> 1;
            int o = outOffset + j;
            for (; j + 16 <= end; j += 16, off += 8, o += 16) {
                ByteVector idx = indices(packed, off);
                lookup(idx, 0, lo, hi).mul(av).intoArray(out, o);
                lookup(idx, 1, lo, hi).mul(av).intoArray(out, o + 8);
            }
            for (; j < end; j++) {
                out[outOffset + j] = code[index(packed, base + j)] * a;
            }
            block++;
            blockEnd += blocksize;
        }
    }
}
