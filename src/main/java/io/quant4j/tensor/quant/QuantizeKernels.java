package io.quant4j.tensor.quant;

import java.lang.foreign.MemorySegment;

/**
 * Fast paths for the element-wise conversions {@code quant4j quantize} spends its time in: F16 rows to floats,
 * and the Q8_0 / Q4_0 reference quantizers writing a whole row at once. Each produces exactly the bytes (or
 * float bits) of the reference beside it; {@code QuantizeKernelsTest} checks that on random and adversarial
 * input. Plain scalar Java on purpose: the JIT compiles it within milliseconds, where Vector API code spends
 * seconds interpreted and in C2's queue before it pays off, longer than these loops run in total.
 */
final class QuantizeKernels {
    /**
     * Below this block maximum the reference path runs: 1/d stays far from overflow and x·(1/d) inside the int
     * range, so truncating conversions behave like the C casts they stand for.
     */
    private static final float SAFE_MIN = 1e-30f;

    private static final ThreadLocal<RowBuffer> ROW_BYTES = ThreadLocal.withInitial(() -> new RowBuffer(new byte[0]));
    private static final ThreadLocal<short[]> ROW_SHORTS = ThreadLocal.withInitial(() -> new short[0]);

    private QuantizeKernels() {
    }

    /** A byte array with its heap segment: copying segment to segment avoids the array-copy overloads' checks. */
    private record RowBuffer(byte[] bytes, MemorySegment segment) {
        RowBuffer(byte[] bytes) {
            this(bytes, MemorySegment.ofArray(bytes));
        }
    }

    /** This thread's row buffer, at least n bytes. */
    private static RowBuffer rowBytes(int n) {
        RowBuffer b = ROW_BYTES.get();
        if (b.bytes().length < n) {
            b = new RowBuffer(new byte[n]);
            ROW_BYTES.set(b);
        }
        return b;
    }

    private static short[] rowShorts(int n) {
        short[] b = ROW_SHORTS.get();
        if (b.length < n) {
            b = new short[n];
            ROW_SHORTS.set(b);
        }
        return b;
    }

    // ---------------------------------------------------------------- F16 → F32

    /**
     * Half → float for a row: one bulk copy of the halves into a per-thread array, then
     * {@link Float#float16ToFloat} in a loop the JIT turns into vector conversions.
     */
    static void f16ToF32(MemorySegment src, long srcOff, float[] dst, int dstOff, int n) {
        short[] h = rowShorts(n);
        MemorySegment.copy(src, Bits.I16, srcOff, h, 0, n);
        for (int j = 0; j < n; j++) {
            dst[dstOff + j] = Float.float16ToFloat(h[j]);
        }
    }

    // ---------------------------------------------------------------- block maxima

    /**
     * The bits of max |x[o..o+32)|, as the maximum of the integers |x| reinterpreted (non-negative floats
     * order like their bit patterns): four branch-free integer chains, unlike the references' compare-and-select
     * loops on random data. A NaN shows as bits above {@code 0x7f800000}, an infinity as exactly that.
     */
    private static int absMaxBits32(float[] x, int o) {
        int m0 = 0;
        int m1 = 0;
        int m2 = 0;
        int m3 = 0;
        for (int j = 0; j < 32; j += 4) {
            m0 = Math.max(m0, Float.floatToRawIntBits(x[o + j]) & 0x7fffffff);
            m1 = Math.max(m1, Float.floatToRawIntBits(x[o + j + 1]) & 0x7fffffff);
            m2 = Math.max(m2, Float.floatToRawIntBits(x[o + j + 2]) & 0x7fffffff);
            m3 = Math.max(m3, Float.floatToRawIntBits(x[o + j + 3]) & 0x7fffffff);
        }
        return Math.max(Math.max(m0, m1), Math.max(m2, m3));
    }

    /** Whether a block maximum (as bits) is finite and not tiny: then the fast paths' arithmetic is safe. */
    private static boolean safe(int amaxBits) {
        return amaxBits >= SAFE_MIN_BITS && amaxBits < 0x7f800000;
    }

    private static final int SAFE_MIN_BITS = Float.floatToRawIntBits(SAFE_MIN);

    // ---------------------------------------------------------------- Q8_0

    /**
     * quantize_row_q8_0_ref over a row, assembled in a per-thread array and copied to {@code dst} once.
     * roundf (half away from zero, which the reference computes in double with a branch on the sign) becomes
     * t = trunc(y) plus trunc(2·(y − t)): the fractional part y − t is exact, doubling it is exact, and its
     * truncation is ±1 exactly when |y − t| ≥ ½. Blocks holding a NaN or an infinity, or whose maximum is tiny
     * (1/d could overflow), take the reference.
     */
    static void quantizeRowQ8_0(float[] x, int xo, int nb, MemorySegment dst, long dstOff) {
        RowBuffer row = rowBytes(nb * Q8_0.BLOCK_BYTES);
        byte[] q = row.bytes();
        for (int ib = 0; ib < nb; ib++) {
            int o = xo + ib * Q8_0.QK;
            int bo = ib * Q8_0.BLOCK_BYTES;
            int amaxBits = absMaxBits32(x, o);
            if (!safe(amaxBits)) {
                Q8_0.quantizeBlockRef(x, o, q, bo);
                continue;
            }
            float d = Float.intBitsToFloat(amaxBits) / ((1 << 7) - 1);
            float id = 1.0f / d;
            short h = Bits.fp16(d);
            q[bo + Q8_0.OFF_D] = (byte) h;
            q[bo + Q8_0.OFF_D + 1] = (byte) (h >> 8);
            for (int j = 0; j < Q8_0.QK; j++) {
                float y = x[o + j] * id; // |y| ≤ 127 (to rounding)
                int t = (int) y;
                float f = y - t;
                q[bo + Q8_0.OFF_QS + j] = (byte) (t + (int) (f + f));
            }
        }
        MemorySegment.copy(row.segment(), 0, dst, dstOff, nb * Q8_0.BLOCK_BYTES);
    }

    // ---------------------------------------------------------------- Q4_0

    /**
     * quantize_row_q4_0_ref over a row, into a per-thread array copied to {@code dst} once. The reference's
     * max is the first element of largest magnitude: the largest key |x|·32 + (31 − j) over the block's bits
     * (integer maxima, branch-free) names it. The level arithmetic is the reference's. Blocks with a NaN, an
     * infinity or a tiny maximum take the reference.
     */
    static void quantizeRowQ4_0(float[] x, int xo, int nb, MemorySegment dst, long dstOff) {
        RowBuffer row = rowBytes(nb * Q4_0.BLOCK_BYTES);
        byte[] q = row.bytes();
        for (int ib = 0; ib < nb; ib++) {
            int o = xo + ib * Q4_0.QK;
            int bo = ib * Q4_0.BLOCK_BYTES;
            long k0 = 0;
            long k1 = 0;
            for (int j = 0; j < Q4_0.QK; j += 2) {
                k0 = Math.max(k0, (long) (Float.floatToRawIntBits(x[o + j]) & 0x7fffffff) << 5 | (31 - j));
                k1 = Math.max(k1, (long) (Float.floatToRawIntBits(x[o + j + 1]) & 0x7fffffff) << 5 | (30 - j));
            }
            long key = Math.max(k0, k1);
            if (!safe((int) (key >>> 5))) {
                Q4_0.quantizeBlockRef(x, o, q, bo);
                continue;
            }
            float d = x[o + 31 - (int) (key & 31)] / -8;
            float id = 1.0f / d;
            short h = Bits.fp16(d);
            q[bo + Q4_0.OFF_D] = (byte) h;
            q[bo + Q4_0.OFF_D + 1] = (byte) (h >> 8);
            for (int j = 0; j < Q4_0.QK / 2; ++j) {
                float x0 = x[o + j] * id;
                float x1 = x[o + Q4_0.QK / 2 + j] * id;
                // x·id ∈ [−8, 8] (to rounding): x·id + 8.5 truncates into [0, 16], where the int8 cast is the identity
                int xi0 = Math.min(15, (int) (x0 + 8.5f));
                int xi1 = Math.min(15, (int) (x1 + 8.5f));
                q[bo + Q4_0.OFF_QS + j] = (byte) (xi0 | xi1 << 4);
            }
        }
        MemorySegment.copy(row.segment(), 0, dst, dstOff, nb * Q4_0.BLOCK_BYTES);
    }
}
