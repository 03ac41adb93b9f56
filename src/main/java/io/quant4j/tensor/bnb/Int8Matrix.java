package io.quant4j.tensor.bnb;

import io.quant4j.tensor.WeightMatrix;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * LLM.int8() weights read in place: int8 CB [out × in] with one absmax per row (SCB), W = CB · SCB / 127.
 * A product first looks for outlier inputs (|x_j| ≥ threshold): those columns are computed in float with the
 * dequantized weights (the mixed-precision decomposition); the rest of x is quantized with its own absmax
 * (vector-wise) and multiplied in integers, y = (Σ xq·CB) · absmax(x) · SCB / 127². Threshold 0 disables outliers.
 */
public final class Int8Matrix extends WeightMatrix {
    private static final VectorSpecies<Byte> BS = ByteVector.SPECIES_64;
    private static final VectorSpecies<Integer> IS = IntVector.SPECIES_256;
    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private final MemorySegment cb;
    private final MemorySegment scb;
    private final float threshold;
    private final int[] rowOf;

    public Int8Matrix(MemorySegment cb, MemorySegment scb, int rows, int cols, float threshold, int[] rowOf) {
        super("LLM.int8" + (threshold > 0 ? " t" + threshold : ""), rows, cols);
        if (cb.byteSize() != (long) rows * cols || scb.byteSize() != 4L * rows) {
            throw new IllegalArgumentException("int8 weight " + rows + "x" + cols + " needs " + (long) rows * cols + " bytes and "
                    + rows + " SCB floats, got " + cb.byteSize() + " and " + scb.byteSize() / 4);
        }
        this.cb = cb;
        this.scb = scb;
        this.threshold = threshold;
        this.rowOf = rowOf;
    }

    /** CB and SCB. */
    @Override
    public long storageBytes() {
        return cb.byteSize() + scb.byteSize();
    }

    public MemorySegment cb() {
        return cb;
    }

    public MemorySegment scb() {
        return scb;
    }

    private long stored(int row) {
        return rowOf == null ? row : rowOf[row];
    }

    @Override
    public void dequantizeRow(int row, float[] out, int outOffset) {
        long r = stored(row);
        float s = scb.get(F32, 4 * r) / 127f;
        for (int j = 0; j < cols; j++) {
            out[outOffset + j] = cb.get(ValueLayout.JAVA_BYTE, r * cols + j) * s;
        }
    }

    @Override
    public float dot(int row, float[] x, int xOffset) {
        float[] xs = new float[cols];
        System.arraycopy(x, xOffset, xs, 0, cols);
        float[] out = new float[rows];
        matVec(xs, out, row, row + 1);
        return out[row];
    }

    /** Per-thread buffers of matVec: the quantized input and the outlier columns (reused, not allocated per call). */
    private static final class Scratch {
        byte[] xq = new byte[0];
        int[] outliers = new int[0];

        Scratch ensure(int n) {
            if (xq.length < n) {
                xq = new byte[n];
                outliers = new int[n];
            }
            return this;
        }
    }

    private static final ThreadLocal<Scratch> SCRATCH = ThreadLocal.withInitial(Scratch::new);

    @Override
    public void matVec(float[] x, float[] out, int from, int to) {
        int n = cols;
        Scratch sc = SCRATCH.get().ensure(n + BS.length());
        byte[] xq = sc.xq;
        int[] outliers = sc.outliers;
        int outlierCount = 0;
        float absmax = 0f;
        for (int j = 0; j < n; j++) {
            float a = Math.abs(x[j]);
            if (threshold > 0 && a >= threshold) {
                outliers[outlierCount++] = j;
            } else {
                absmax = Math.max(absmax, a);
            }
        }
        float inv = absmax > 0 ? 127f / absmax : 0f;
        for (int j = 0; j < n; j++) {
            boolean outlier = threshold > 0 && Math.abs(x[j]) >= threshold;
            xq[j] = outlier ? 0 : (byte) Math.rint(x[j] * inv);
        }
        int upper = BS.loopBound(n);
        for (int r = from; r < to; r++) {
            long base = stored(r) * n;
            IntVector acc = IntVector.zero(IS);
            int j = 0;
            for (; j < upper; j += BS.length()) {
                IntVector w = (IntVector) ByteVector.fromMemorySegment(BS, cb, base + j, ByteOrder.LITTLE_ENDIAN).convertShape(VectorOperators.B2I, IS, 0);
                IntVector v = (IntVector) ByteVector.fromArray(BS, xq, j).convertShape(VectorOperators.B2I, IS, 0);
                acc = acc.add(w.mul(v));
            }
            long dotq = acc.reduceLanesToLong(VectorOperators.ADD);
            for (; j < n; j++) {
                dotq += (long) cb.get(ValueLayout.JAVA_BYTE, base + j) * xq[j];
            }
            float s = scb.get(F32, 4 * stored(r));
            float y = (float) dotq * (absmax * s / (127f * 127f));
            if (outlierCount > 0) {
                float f = 0f;
                for (int o = 0; o < outlierCount; o++) {
                    int c = outliers[o];
                    f += cb.get(ValueLayout.JAVA_BYTE, base + c) * x[c];
                }
                y += f * s / 127f;
            }
            out[r] = y;
        }
    }
}
