package io.quant4j.tensor.quant;

import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;

/**
 * Fast paths for the element-wise conversions {@code quant4j quantize} spends its time in: F16 rows to floats
 * (scalar: a bulk copy, then HotSpot's intrinsic for {@link Float#float16ToFloat}), and the Q8_0 / Q4_0
 * reference quantizers with the Vector API, written straight into the destination. Each gives exactly the
 * bytes (or float bits) of the reference beside it: only lane-wise IEEE operations the scalar code also
 * performs (multiply, divide, add, compare), in the same order per element, no fused multiply-add and no
 * reassociated sums; maxima are order-free, and blocks where the reasoning needs finite, non-tiny values (NaN,
 * infinities, all-zero or subnormal blocks) take the reference. {@code QuantizeKernelsTest} checks byte
 * equality on random and adversarial rows. (The launcher scales this class's JIT thresholds down, as for
 * {@link KQuantSearchKernels}: Vector API code crawls until C2 compiles it.)
 */
final class QuantizeKernels {
    static final VectorSpecies<Float> F = FloatVector.SPECIES_256;
    static final VectorSpecies<Integer> I = IntVector.SPECIES_256;
    private static final VectorSpecies<Byte> B8 = ByteVector.SPECIES_64;
    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;

    /**
     * Below this block maximum the reference path runs: 1/d stays far from overflow and x·(1/d) inside the int
     * range, so truncating conversions behave like the C casts they stand for.
     */
    private static final float SAFE_MIN = 1e-30f;

    private static final ThreadLocal<short[]> ROW_SHORTS = ThreadLocal.withInitial(() -> new short[0]);

    private QuantizeKernels() {
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
     * {@link Float#float16ToFloat} (an F16C instruction once compiled) in a plain loop; measured faster than a
     * Vector API version, and no warm-up.
     */
    static void f16ToF32(MemorySegment src, long srcOff, float[] dst, int dstOff, int n) {
        short[] h = rowShorts(n);
        MemorySegment.copy(src, Bits.I16, srcOff, h, 0, n);
        for (int j = 0; j < n; j++) {
            dst[dstOff + j] = Float.float16ToFloat(h[j]);
        }
    }

    // ---------------------------------------------------------------- Q8_0

    /**
     * quantize_row_q8_0_ref over a row, written straight into {@code dst}. roundf (half away from zero) for
     * |y| ≤ 128: truncate, then step away from zero where the exact fractional part y − trunc(y) reaches ½.
     * (Everything stays in this one method: C2 scalarizes Vector API values only when nothing is left to a call.)
     */
    static void quantizeRowQ8_0(float[] x, int xo, int nb, MemorySegment dst, long dstOff) {
        IntVector zero = IntVector.zero(I);
        for (int ib = 0; ib < nb; ib++) {
            int o = xo + ib * Q8_0.QK;
            long bo = dstOff + (long) ib * Q8_0.BLOCK_BYTES;
            FloatVector m = FloatVector.fromArray(F, x, o).abs();
            for (int c = 8; c < Q8_0.QK; c += 8) {
                m = m.max(FloatVector.fromArray(F, x, o + c).abs());
            }
            float amax = m.reduceLanes(VectorOperators.MAX);
            if (!(amax >= SAFE_MIN && amax <= Float.MAX_VALUE)) {
                q8_0Fallback(x, o, dst, bo);
                continue;
            }
            float d = amax / ((1 << 7) - 1);
            float id = 1.0f / d;
            dst.set(Bits.I16, bo + Q8_0.OFF_D, Bits.fp16(d));
            for (int c = 0; c < Q8_0.QK; c += 8) {
                FloatVector y = FloatVector.fromArray(F, x, o + c).mul(id);
                IntVector t = y.convert(VectorOperators.F2I, 0).reinterpretAsInts();
                FloatVector frac = y.sub(t.convert(VectorOperators.I2F, 0).reinterpretAsFloats());
                IntVector step = zero.blend(1, frac.compare(VectorOperators.GE, 0.5f).cast(I))
                        .blend(-1, frac.compare(VectorOperators.LE, -0.5f).cast(I));
                t.add(step).convertShape(VectorOperators.I2B, B8, 0).reinterpretAsBytes()
                        .intoMemorySegment(dst, bo + Q8_0.OFF_QS + c, LE);
            }
        }
    }

    private static void q8_0Fallback(float[] x, int o, MemorySegment dst, long bo) {
        byte[] y = new byte[Q8_0.BLOCK_BYTES];
        Q8_0.quantizeBlockRef(x, o, y);
        Bits.store(y, dst, bo);
    }

    // ---------------------------------------------------------------- Q4_0

    /**
     * quantize_row_q4_0_ref over a row, written straight into {@code dst}. |x·id| ≤ 8 (to rounding), so
     * x·id + 8.5 truncates into [0, 16] and the reference's int8 cast changes nothing.
     */
    static void quantizeRowQ4_0(float[] x, int xo, int nb, MemorySegment dst, long dstOff) {
        for (int ib = 0; ib < nb; ib++) {
            int o = xo + ib * Q4_0.QK;
            long bo = dstOff + (long) ib * Q4_0.BLOCK_BYTES;
            FloatVector m = FloatVector.fromArray(F, x, o).abs();
            for (int c = 8; c < Q4_0.QK; c += 8) {
                m = m.max(FloatVector.fromArray(F, x, o + c).abs());
            }
            float amax = m.reduceLanes(VectorOperators.MAX);
            if (!(amax >= SAFE_MIN && amax <= Float.MAX_VALUE)) {
                q4_0Fallback(x, o, dst, bo);
                continue;
            }
            // The reference keeps the first element of largest magnitude (strict <), sign included.
            int j = 0;
            while (Math.abs(x[o + j]) != amax) {
                j++;
            }
            float d = x[o + j] / -8;
            float id = 1.0f / d;
            dst.set(Bits.I16, bo + Q4_0.OFF_D, Bits.fp16(d));
            for (int c = 0; c < Q4_0.QK / 2; c += 8) {
                IntVector lo = FloatVector.fromArray(F, x, o + c).mul(id).add(8.5f)
                        .convert(VectorOperators.F2I, 0).reinterpretAsInts().min(15);
                IntVector hi = FloatVector.fromArray(F, x, o + Q4_0.QK / 2 + c).mul(id).add(8.5f)
                        .convert(VectorOperators.F2I, 0).reinterpretAsInts().min(15);
                lo.or(hi.lanewise(VectorOperators.LSHL, 4)).convertShape(VectorOperators.I2B, B8, 0).reinterpretAsBytes()
                        .intoMemorySegment(dst, bo + Q4_0.OFF_QS + c, LE);
            }
        }
    }

    private static void q4_0Fallback(float[] x, int o, MemorySegment dst, long bo) {
        byte[] y = new byte[Q4_0.BLOCK_BYTES];
        Q4_0.quantizeBlockRef(x, o, y);
        Bits.store(y, dst, bo);
    }
}
