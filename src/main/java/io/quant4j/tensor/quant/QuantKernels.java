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
 * <p>Why float activations and not llama.cpp's Q8 integer dot: on AVX2 llama.cpp multiplies 32 byte pairs per
 * instruction (vpmaddubsw); the Vector API has no widening multiply-add, and emulating one (widen to shorts,
 * multiply, widen to ints) costs more instructions per block than widening the weights straight to floats and
 * using FMA. Offsets and mins are not applied per value: Σ d·(q − 8)·x = d·(Σ q·x − 8·Σx), with the block sums of
 * x computed once per matrix-vector product ({@link #blockSums}).
 *
 * <p>Nibbles are widened to int lanes before masking (one vpmovzxbd from memory), where the shifts are cheap;
 * each block's Σ q·x is two independent FMA chains.
 */
final class QuantKernels {
    private static final VectorSpecies<Byte> B16 = ByteVector.SPECIES_128;
    /** Per-lane shifts that bring bit (8p + lane) of a Q5 qh word down to bit 0, for lanes part p. */
    private static final IntVector[] QH_SHIFT = new IntVector[4];
    private static final ByteVector IQ4NL_TABLE = ByteVector.fromArray(B16, IQ4_NL.VALUES, 0);

    static {
        for (int p = 0; p < 4; p++) {
            int[] s = new int[8];
            for (int i = 0; i < 8; i++) {
                s[i] = 8 * p + i;
            }
            QH_SHIFT[p] = IntVector.fromArray(Simd.I, s, 0);
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

    /** Σ q·x over one block (four 8-lane products in two chains). */
    private static FloatVector q8_0(MemorySegment w, long qs, float[] x, int xo) {
        FloatVector s0 = toFloat(Simd.s8(w, qs)).mul(FloatVector.fromArray(F, x, xo));
        FloatVector s1 = toFloat(Simd.s8(w, qs + 8)).mul(FloatVector.fromArray(F, x, xo + 8));
        s0 = toFloat(Simd.s8(w, qs + 16)).fma(FloatVector.fromArray(F, x, xo + 16), s0);
        s1 = toFloat(Simd.s8(w, qs + 24)).fma(FloatVector.fromArray(F, x, xo + 24), s1);
        return s0.add(s1);
    }

    static float dotQ8_0(MemorySegment w, long off, float[] x, int xo, int nb) {
        FloatVector acc0 = FloatVector.zero(F);
        FloatVector acc1 = FloatVector.zero(F);
        int b = 0;
        for (; b + 1 < nb; b += 2) {
            long bo = off + (long) b * Q8_0.BLOCK_BYTES;
            float d0 = half(w, bo);
            float d1 = half(w, bo + Q8_0.BLOCK_BYTES);
            acc0 = q8_0(w, bo + Q8_0.OFF_QS, x, xo + 32 * b).fma(FloatVector.broadcast(F, d0), acc0);
            acc1 = q8_0(w, bo + Q8_0.BLOCK_BYTES + Q8_0.OFF_QS, x, xo + 32 * b + 32).fma(FloatVector.broadcast(F, d1), acc1);
        }
        if (b < nb) {
            long bo = off + (long) b * Q8_0.BLOCK_BYTES;
            acc0 = q8_0(w, bo + Q8_0.OFF_QS, x, xo + 32 * b).fma(FloatVector.broadcast(F, half(w, bo)), acc0);
        }
        return Simd.sum(acc0.add(acc1));
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

    /** Σ q·x for the 32 unsigned nibbles at {@code qs}. */
    private static FloatVector q4(MemorySegment w, long qs, float[] x, int xo) {
        IntVector a = u8(w, qs);
        IntVector b = u8(w, qs + 8);
        FloatVector s0 = toFloat(a.and(15)).mul(FloatVector.fromArray(F, x, xo));
        FloatVector s1 = toFloat(b.and(15)).mul(FloatVector.fromArray(F, x, xo + 8));
        s0 = toFloat(a.lanewise(VectorOperators.LSHR, 4)).fma(FloatVector.fromArray(F, x, xo + 16), s0);
        s1 = toFloat(b.lanewise(VectorOperators.LSHR, 4)).fma(FloatVector.fromArray(F, x, xo + 24), s1);
        return s0.add(s1);
    }

    /** Σ_b d_b·(Σ q·x − 8·Σx). */
    static float dotQ4_0(MemorySegment w, long off, float[] x, int xo, float[] s32, int so, int nb) {
        FloatVector acc0 = FloatVector.zero(F);
        FloatVector acc1 = FloatVector.zero(F);
        float offsets = 0;
        int b = 0;
        for (; b + 1 < nb; b += 2) {
            long bo = off + (long) b * Q4_0.BLOCK_BYTES;
            float d0 = half(w, bo);
            float d1 = half(w, bo + Q4_0.BLOCK_BYTES);
            offsets += d0 * s32[so + b] + d1 * s32[so + b + 1];
            acc0 = q4(w, bo + Q4_0.OFF_QS, x, xo + 32 * b).fma(FloatVector.broadcast(F, d0), acc0);
            acc1 = q4(w, bo + Q4_0.BLOCK_BYTES + Q4_0.OFF_QS, x, xo + 32 * b + 32).fma(FloatVector.broadcast(F, d1), acc1);
        }
        if (b < nb) {
            long bo = off + (long) b * Q4_0.BLOCK_BYTES;
            float d0 = half(w, bo);
            offsets += d0 * s32[so + b];
            acc0 = q4(w, bo + Q4_0.OFF_QS, x, xo + 32 * b).fma(FloatVector.broadcast(F, d0), acc0);
        }
        return Simd.sum(acc0.add(acc1)) - 8 * offsets;
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

    // ---- Q5_0 / Q5_1: Q4 nibbles plus a fifth bit per value in the little-endian word qh ----

    /** Σ q·x for 32 five-bit values: nibbles at {@code qs}, fifth bits in {@code qh}. */
    private static FloatVector q5(MemorySegment w, long qs, int qh, float[] x, int xo) {
        IntVector h = IntVector.broadcast(Simd.I, qh);
        IntVector a = u8(w, qs);
        IntVector b = u8(w, qs + 8);
        IntVector q0 = a.and(15).or(h.lanewise(VectorOperators.LSHR, QH_SHIFT[0]).lanewise(VectorOperators.LSHL, 4).and(16));
        IntVector q1 = b.and(15).or(h.lanewise(VectorOperators.LSHR, QH_SHIFT[1]).lanewise(VectorOperators.LSHL, 4).and(16));
        IntVector q2 = a.lanewise(VectorOperators.LSHR, 4).or(h.lanewise(VectorOperators.LSHR, QH_SHIFT[2]).lanewise(VectorOperators.LSHL, 4).and(16));
        IntVector q3 = b.lanewise(VectorOperators.LSHR, 4).or(h.lanewise(VectorOperators.LSHR, QH_SHIFT[3]).lanewise(VectorOperators.LSHL, 4).and(16));
        FloatVector s0 = toFloat(q0).mul(FloatVector.fromArray(F, x, xo));
        FloatVector s1 = toFloat(q1).mul(FloatVector.fromArray(F, x, xo + 8));
        s0 = toFloat(q2).fma(FloatVector.fromArray(F, x, xo + 16), s0);
        s1 = toFloat(q3).fma(FloatVector.fromArray(F, x, xo + 24), s1);
        return s0.add(s1);
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
            FloatVector s0 = toFloat((IntVector) lo.convertShape(VectorOperators.B2I, Simd.I, 0)).mul(FloatVector.fromArray(F, x, o));
            FloatVector s1 = toFloat((IntVector) lo.convertShape(VectorOperators.B2I, Simd.I, 1)).mul(FloatVector.fromArray(F, x, o + 8));
            s0 = toFloat((IntVector) hi.convertShape(VectorOperators.B2I, Simd.I, 0)).fma(FloatVector.fromArray(F, x, o + 16), s0);
            s1 = toFloat((IntVector) hi.convertShape(VectorOperators.B2I, Simd.I, 1)).fma(FloatVector.fromArray(F, x, o + 24), s1);
            acc = s0.add(s1).fma(FloatVector.broadcast(F, half(w, bo + IQ4_NL.OFF_D)), acc);
        }
        return Simd.sum(acc);
    }
}
