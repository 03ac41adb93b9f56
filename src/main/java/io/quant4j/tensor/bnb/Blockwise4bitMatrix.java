package io.quant4j.tensor.bnb;

import io.quant4j.tensor.WeightMatrix;

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

    private int index(long flat) {
        int b = packed.get(ValueLayout.JAVA_BYTE, flat >>> 1) & 0xFF;
        return (flat & 1) == 0 ? b >>> 4 : b & 15;
    }

    @Override
    public float dot(int row, float[] x, int xOffset) {
        long base = (long) (rowOf == null ? row : rowOf[row]) * cols;
        float sum = 0f;
        int j = 0;
        while (j < cols) {
            long flat = base + j;
            long block = flat / blocksize;
            int end = (int) Math.min(cols, (block + 1) * blocksize - base);
            float partial = 0f;
            if (((base + j) & 1) != 0 && j < end) { // a block starting on a low nibble: one value alone
                partial += code[index(base + j)] * x[xOffset + j];
                j++;
            }
            for (; j + 1 < end; j += 2) { // one byte, two codes: high nibble first
                int b = packed.get(ValueLayout.JAVA_BYTE, (base + j) >>> 1) & 0xFF;
                partial += code[b >>> 4] * x[xOffset + j] + code[b & 15] * x[xOffset + j + 1];
            }
            for (; j < end; j++) {
                partial += code[index(base + j)] * x[xOffset + j];
            }
            sum += partial * absmax.get(block);
        }
        return sum;
    }

    @Override
    public void dequantizeRow(int row, float[] out, int outOffset) {
        long base = (long) (rowOf == null ? row : rowOf[row]) * cols;
        int j = 0;
        while (j < cols) {
            long block = (base + j) / blocksize;
            int end = (int) Math.min(cols, (block + 1) * blocksize - base);
            float a = absmax.get(block);
            for (; j < end; j++) {
                out[outOffset + j] = code[index(base + j)] * a;
            }
        }
    }
}
