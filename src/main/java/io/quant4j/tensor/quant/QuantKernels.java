package io.quant4j.tensor.quant;

import io.quant4j.tensor.Simd;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

import java.lang.foreign.MemorySegment;

import static io.quant4j.tensor.Simd.F;
import static io.quant4j.tensor.Simd.toFloat;
import static io.quant4j.tensor.Simd.u8;

/**
 * Vector API dot products of one row of a 32-value block type (Q8_0, Q4_0, Q4_1, Q5_0, Q5_1, IQ4_NL) with float
 * activations, and row dequantization for the batched (prefill) path; each is checked against
 * {@link QuantizedMatrix#dotScalar} / the codecs' dequantizeRow by a differential test.
 *
 * <p>These take float activations. Decode's matrix-vector products of Q4_0 and Q8_0 rows go through the integer
 * kernels of {@link IntDotKernels} instead (int8 activations, llama.cpp's scheme, faster per weight); these serve
 * {@link QuantizedMatrix#dot}, the other 32-value types, and {@code -Dquant4j.q8act=false}. Offsets and mins are
 * not applied per value: Σ d·(q − 8)·x = d·(Σ q·x − 8·Σx), with the block sums of x computed once per
 * matrix-vector product ({@link #blockSums}).
 *
 * <p>Nibbles are widened to int lanes before masking (one vpmovzxbd from memory), where the shifts are cheap.
 */
final class QuantKernels {
    private static final VectorSpecies<Byte> B16 = ByteVector.SPECIES_128;
    /**
     * Lane shifts 0..31: lanes 8p..8p+7 bring bits 8p..8p+7 of a Q5 qh word down to bit 0. An int[], not an
     * IntVector[]: a vector read from an object array reaches C2 as the abstract IntVector and is not unboxed.
     */
    private static final int[] QH_SHIFT = new int[32];
    /** Lane indices 0..7, for per-lane variable shifts. */
    private static final IntVector LANE = IntVector.fromArray(Simd.I, new int[] {0, 1, 2, 3, 4, 5, 6, 7}, 0);
    private static final ByteVector IQ4NL_TABLE = ByteVector.fromArray(B16, IQ4_NL.VALUES, 0);

    static {
        for (int i = 0; i < 32; i++) {
            QH_SHIFT[i] = i;
        }
    }

    private QuantKernels() {
    }

    /** s16[k] = Σ x over values 16k..16k+15, s32[k] over 32k..32k+31 (n a multiple of 32). */
    static void blockSums(float[] x, int xo, int n, float[] s16, float[] s32) {
        for (int k = 0; k < n / 16; k++) {
            float s;
            if (Simd.ENABLED) {
                s = Simd.sum(FloatVector.fromArray(F, x, xo + 16 * k).add(FloatVector.fromArray(F, x, xo + 16 * k + 8)));
            } else {
                s = 0;
                for (int j = 0; j < 16; j++) {
                    s += x[xo + 16 * k + j];
                }
            }
            s16[k] = s;
        }
        for (int k = 0; k < n / 32; k++) {
            s32[k] = s16[2 * k] + s16[2 * k + 1];
        }
    }

    static float half(MemorySegment w, long off) {
        return Float.float16ToFloat(w.get(Bits.I16, off));
    }

    // ---- Q8_0: half d; i8 qs[32] ----

    /*
     * Kernel shape rule: one block per loop iteration and one widening load per inner iteration. C2 parses every
     * Vector API call site of a method (with its inlined intrinsic plumbing) before it unrolls loops; a loop body
     * with many conversion call sites passes its inlining node budget (NodeCountInliningCutoff), the rest of the
     * body is left as calls, and every vector crossing those calls is boxed on the heap — tens of MB per
     * matrix-vector product. Constant-trip inner loops are unrolled after parsing, so they cost nothing there.
     */

    static float dotQ8_0(MemorySegment w, long off, float[] x, int xo, int nb) {
        FloatVector acc = FloatVector.zero(F);
        for (int b = 0; b < nb; b++) {
            long bo = off + (long) b * Q8_0.BLOCK_BYTES;
            int o = xo + 32 * b;
            FloatVector s = FloatVector.zero(F);
            for (int c = 0; c < 32; c += 8) {
                s = toFloat(Simd.s8(w, bo + Q8_0.OFF_QS + c)).fma(FloatVector.fromArray(F, x, o + c), s);
            }
            acc = s.fma(FloatVector.broadcast(F, half(w, bo)), acc);
        }
        return Simd.sum(acc);
    }

    static void dequantQ8_0(MemorySegment w, long off, float[] y, int yo, int nb) {
        for (int b = 0; b < nb; b++) {
            long bo = off + (long) b * Q8_0.BLOCK_BYTES;
            float d = half(w, bo);
            for (int c = 0; c < 32; c += 8) {
                toFloat(Simd.s8(w, bo + Q8_0.OFF_QS + c)).mul(d).intoArray(y, yo + 32 * b + c);
            }
        }
    }

    // ---- Q4_0 / Q4_1: low nibbles are values 0-15, high nibbles 16-31 ----

    /** Σ q·x for the 32 unsigned nibbles at {@code qs} (low nibbles are values 0-15, high nibbles 16-31). */
    private static FloatVector q4(MemorySegment w, long qs, float[] x, int xo) {
        FloatVector s = FloatVector.zero(F);
        for (int c = 0; c < 16; c += 8) {
            IntVector a = u8(w, qs + c);
            s = toFloat(a.and(15)).fma(FloatVector.fromArray(F, x, xo + c), s);
            s = toFloat(a.lanewise(VectorOperators.LSHR, 4)).fma(FloatVector.fromArray(F, x, xo + 16 + c), s);
        }
        return s;
    }

    /** Σ_b d_b·(Σ q·x − 8·Σx). */
    static float dotQ4_0(MemorySegment w, long off, float[] x, int xo, float[] s32, int so, int nb) {
        FloatVector acc = FloatVector.zero(F);
        float offsets = 0;
        for (int b = 0; b < nb; b++) {
            long bo = off + (long) b * Q4_0.BLOCK_BYTES;
            float d = half(w, bo);
            offsets += d * s32[so + b];
            acc = q4(w, bo + Q4_0.OFF_QS, x, xo + 32 * b).fma(FloatVector.broadcast(F, d), acc);
        }
        return Simd.sum(acc) - 8 * offsets;
    }

    static void dequantQ4_0(MemorySegment w, long off, float[] y, int yo, int nb) {
        for (int b = 0; b < nb; b++) {
            long bo = off + (long) b * Q4_0.BLOCK_BYTES;
            float d = half(w, bo);
            int o = yo + 32 * b;
            for (int c = 0; c < 16; c += 8) {
                IntVector q = u8(w, bo + Q4_0.OFF_QS + c);
                toFloat(q.and(15).sub(8)).mul(d).intoArray(y, o + c);
                toFloat(q.lanewise(VectorOperators.LSHR, 4).sub(8)).mul(d).intoArray(y, o + 16 + c);
            }
        }
    }

    /** Σ_b d_b·Σ q·x + m_b·Σx. */
    static float dotQ4_1(MemorySegment w, long off, float[] x, int xo, float[] s32, int so, int nb) {
        FloatVector acc = FloatVector.zero(F);
        float mins = 0;
        for (int b = 0; b < nb; b++) {
            long bo = off + (long) b * Q4_1.BLOCK_BYTES;
            mins += half(w, bo + Q4_1.OFF_M) * s32[so + b];
            acc = q4(w, bo + Q4_1.OFF_QS, x, xo + 32 * b).fma(FloatVector.broadcast(F, half(w, bo + Q4_1.OFF_D)), acc);
        }
        return Simd.sum(acc) + mins;
    }

    /** d·q + m per value, in that order (Q4_1.dequantizeBlock's rounding); d and m read as one int. */
    static void dequantQ4_1(MemorySegment w, long off, float[] y, int yo, int nb) {
        long bo = off;
        int o = yo;
        for (int b = 0; b < nb; b++, bo += Q4_1.BLOCK_BYTES, o += 32) {
            int dm = w.get(Bits.I32, bo + Q4_1.OFF_D);
            float d = Float.float16ToFloat((short) dm);
            float m = Float.float16ToFloat((short) (dm >>> 16));
            for (int c = 0; c < 16; c += 8) {
                IntVector q = u8(w, bo + Q4_1.OFF_QS + c);
                toFloat(q.and(15)).mul(d).add(m).intoArray(y, o + c);
                toFloat(q.lanewise(VectorOperators.LSHR, 4)).mul(d).add(m).intoArray(y, o + 16 + c);
            }
        }
    }

    // ---- Q5_0 / Q5_1: Q4 nibbles plus a fifth bit per value in the little-endian word qh ----

    /** Σ q·x for 32 five-bit values: nibbles at {@code qs}, fifth bits in {@code qh}. */
    private static FloatVector q5(MemorySegment w, long qs, int qh, float[] x, int xo) {
        IntVector h = IntVector.broadcast(Simd.I, qh);
        FloatVector s = FloatVector.zero(F);
        for (int p = 0; p < 2; p++) {
            IntVector a = u8(w, qs + 8 * p);
            IntVector lo = a.and(15).or(h.lanewise(VectorOperators.LSHR, IntVector.fromArray(Simd.I, QH_SHIFT, 8 * p)).lanewise(VectorOperators.LSHL, 4).and(16));
            IntVector hi = a.lanewise(VectorOperators.LSHR, 4)
                    .or(h.lanewise(VectorOperators.LSHR, IntVector.fromArray(Simd.I, QH_SHIFT, 16 + 8 * p)).lanewise(VectorOperators.LSHL, 4).and(16));
            s = toFloat(lo).fma(FloatVector.fromArray(F, x, xo + 8 * p), s);
            s = toFloat(hi).fma(FloatVector.fromArray(F, x, xo + 16 + 8 * p), s);
        }
        return s;
    }

    /** Σ_b d_b·(Σ q·x − 16·Σx). */
    static float dotQ5_0(MemorySegment w, long off, float[] x, int xo, float[] s32, int so, int nb) {
        FloatVector acc = FloatVector.zero(F);
        float offsets = 0;
        for (int b = 0; b < nb; b++) {
            long bo = off + (long) b * Q5_0.BLOCK_BYTES;
            float d = half(w, bo + Q5_0.OFF_D);
            offsets += d * s32[so + b];
            int qh = w.get(Bits.I32, bo + Q5_0.OFF_QH);
            acc = q5(w, bo + Q5_0.OFF_QS, qh, x, xo + 32 * b).fma(FloatVector.broadcast(F, d), acc);
        }
        return Simd.sum(acc) - 16 * offsets;
    }

    /** Σ_b d_b·Σ q·x + m_b·Σx. */
    static float dotQ5_1(MemorySegment w, long off, float[] x, int xo, float[] s32, int so, int nb) {
        FloatVector acc = FloatVector.zero(F);
        float mins = 0;
        for (int b = 0; b < nb; b++) {
            long bo = off + (long) b * Q5_1.BLOCK_BYTES;
            mins += half(w, bo + Q5_1.OFF_M) * s32[so + b];
            int qh = w.get(Bits.I32, bo + Q5_1.OFF_QH);
            acc = q5(w, bo + Q5_1.OFF_QS, qh, x, xo + 32 * b).fma(FloatVector.broadcast(F, half(w, bo + Q5_1.OFF_D)), acc);
        }
        return Simd.sum(acc) + mins;
    }

    /**
     * The fifth bits of values c..c+7 (c = 0, 8 for the low nibbles; 16, 24 for the high ones) at bit 4 of each lane:
     * qh shifted down by c and up by 4 once in scalar, then down by the lane index.
     */
    private static IntVector fifthBits(int qh, int c) {
        return IntVector.broadcast(Simd.I, (qh >>> c) << 4).lanewise(VectorOperators.LSHR, LANE).and(16);
    }

    /** ((q | h) − 16)·d per value, as Q5_0.dequantizeBlock rounds it. */
    static void dequantQ5_0(MemorySegment w, long off, float[] y, int yo, int nb) {
        long bo = off;
        int o = yo;
        for (int b = 0; b < nb; b++, bo += Q5_0.BLOCK_BYTES, o += 32) {
            float d = half(w, bo + Q5_0.OFF_D);
            int qh = w.get(Bits.I32, bo + Q5_0.OFF_QH);
            for (int c = 0; c < 16; c += 8) {
                IntVector q = u8(w, bo + Q5_0.OFF_QS + c);
                toFloat(q.and(15).or(fifthBits(qh, c)).sub(16)).mul(d).intoArray(y, o + c);
                toFloat(q.lanewise(VectorOperators.LSHR, 4).or(fifthBits(qh, 16 + c)).sub(16)).mul(d).intoArray(y, o + 16 + c);
            }
        }
    }

    /** (q | h)·d + m per value, as Q5_1.dequantizeBlock rounds it. */
    static void dequantQ5_1(MemorySegment w, long off, float[] y, int yo, int nb) {
        long bo = off;
        int o = yo;
        for (int b = 0; b < nb; b++, bo += Q5_1.BLOCK_BYTES, o += 32) {
            int dm = w.get(Bits.I32, bo + Q5_1.OFF_D);
            float d = Float.float16ToFloat((short) dm);
            float m = Float.float16ToFloat((short) (dm >>> 16));
            int qh = w.get(Bits.I32, bo + Q5_1.OFF_QH);
            for (int c = 0; c < 16; c += 8) {
                IntVector q = u8(w, bo + Q5_1.OFF_QS + c);
                toFloat(q.and(15).or(fifthBits(qh, c))).mul(d).add(m).intoArray(y, o + c);
                toFloat(q.lanewise(VectorOperators.LSHR, 4).or(fifthBits(qh, 16 + c))).mul(d).add(m).intoArray(y, o + 16 + c);
            }
        }
    }

    // ---- IQ4_NL: nibbles index a 16-entry table of int8 levels (one byte shuffle per 16 values) ----

    static float dotIQ4_NL(MemorySegment w, long off, float[] x, int xo, int nb) {
        FloatVector acc = FloatVector.zero(F);
        for (int b = 0; b < nb; b++) {
            long bo = off + (long) b * IQ4_NL.BLOCK_BYTES;
            ByteVector qs = ByteVector.fromMemorySegment(B16, w, bo + IQ4_NL.OFF_QS, Simd.LE);
            ByteVector lo = qs.and((byte) 15).selectFrom(IQ4NL_TABLE);
            ByteVector hi = qs.reinterpretAsShorts().lanewise(VectorOperators.LSHR, 4).reinterpretAsBytes().and((byte) 15)
                    .selectFrom(IQ4NL_TABLE);
            int o = xo + 32 * b;
            FloatVector s = FloatVector.zero(F);
            for (int p = 0; p < 2; p++) {
                s = toFloat((IntVector) lo.convertShape(VectorOperators.B2I, Simd.I, p)).fma(FloatVector.fromArray(F, x, o + 8 * p), s);
                s = toFloat((IntVector) hi.convertShape(VectorOperators.B2I, Simd.I, p)).fma(FloatVector.fromArray(F, x, o + 16 + 8 * p), s);
            }
            acc = s.fma(FloatVector.broadcast(F, half(w, bo + IQ4_NL.OFF_D)), acc);
        }
        return Simd.sum(acc);
    }
}
