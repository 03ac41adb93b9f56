package io.quant4j.tensor.quant;

import io.quant4j.tensor.Simd;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

import static io.quant4j.tensor.Simd.F;
import static io.quant4j.tensor.quant.QuantKernels.half;

/**
 * Integer dot products of one weight row with int8-quantized activations ({@link Q8Activations}), llama.cpp's
 * scheme for the CPU: Q4_0 and Q8_0 against Q8_0 blocks, Q4_K and Q6_K against Q8_K. Within a block the products
 * are exact integers; each Q4_0/Q8_0 block's integer sum is scaled once in float, and a Q4_K/Q6_K super-block's
 * sub-block sums are multiplied by their small integer scales and summed in int lanes, then scaled once.
 *
 * <p>The Vector API has no widening byte multiply-add (vpmaddubsw), so weights and activations meet as 16 shorts
 * per instruction (vpmullw): sums of two products stay within a short (|15·127·2|, |128·127·2| ≤ 32 512), and the
 * 16 lanes are folded into 8 int lanes (each int lane's two shorts, added) before the one int-to-float conversion
 * per block. About twice the speed of widening every weight to a float lane, and half the activation bytes.
 *
 * <p>Each vector kernel has a scalar reference ({@code ...Scalar}) computing the same integer sums in element
 * order; {@code IntDotKernelsTest} compares them on random rows. Loop shapes follow {@link QuantKernels}' rule:
 * one block per iteration, few Vector API call sites per method. The final accumulator is stored and summed in
 * {@link Simd#sum}'s fixed order ({@link Simd#sumLanes}): reduceLanes may add in another order when compiled than
 * when interpreted, which would make results depend on JIT timing.
 */
final class IntDotKernels {
    private static final VectorSpecies<Byte> B16 = ByteVector.SPECIES_128;
    private static final VectorSpecies<Short> S16 = ShortVector.SPECIES_256;

    private IntDotKernels() {
    }

    /** 16 unsigned bytes widened to shorts (vpmovzxbw). */
    private static ShortVector u8(MemorySegment w, long off) {
        return (ShortVector) ByteVector.fromMemorySegment(B16, w, off, Simd.LE).convertShape(VectorOperators.ZERO_EXTEND_B2S, S16, 0);
    }

    /** 16 signed bytes widened to shorts (vpmovsxbw). */
    private static ShortVector s8(MemorySegment w, long off) {
        return (ShortVector) ByteVector.fromMemorySegment(B16, w, off, Simd.LE).convertShape(VectorOperators.B2S, S16, 0);
    }

    /** The 16 short lanes of {@code p} as 8 float lanes, each the sum of one pair. */
    private static FloatVector pairSums(ShortVector p) {
        IntVector pi = p.reinterpretAsInts();
        IntVector s = pi.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16).add(pi.lanewise(VectorOperators.ASHR, 16));
        return (FloatVector) s.convert(VectorOperators.I2F, 0);
    }

    /**
     * {@link #pairSums} in three lane ops instead of four, for lanes whose pair sums fit in 16 bits (|sum| < 2^15):
     * the top half of s + (s << 16) is (hi + lo) mod 2^16, which the arithmetic shift reads back exactly. Holds for
     * Q4_0/Q4_K (|pair| ≤ 4·15·127) and Q6_K (≤ 2·32·127, levels less 32), not for Q8_0 (≤ 2·2·128·127).
     */
    private static FloatVector smallPairSums(ShortVector p) {
        return (FloatVector) smallPairInts(p).convert(VectorOperators.I2F, 0);
    }

    /** {@link #smallPairSums} left in int lanes. */
    private static IntVector smallPairInts(ShortVector p) {
        IntVector s = p.reinterpretAsInts();
        return s.add(s.lanewise(VectorOperators.LSHL, 16)).lanewise(VectorOperators.ASHR, 16);
    }

    private static int s32(Q8Activations a, int b) {
        return a.s16[2 * b] + a.s16[2 * b + 1];
    }

    // ---- Q4_0 × Q8_0: Σ_b d_w·d_x·(Σ q·x − 8·Σx) ----
    // Loop shape for all four: arrays hoisted out of the activations object and running offsets instead of
    // per-block index arithmetic; the scalar address work, not the vector work, was what bounded these loops.

    static float dotQ4_0(MemorySegment w, long off, Q8Activations a, int xb, int nb) {
        FloatVector acc = FloatVector.zero(F);
        float offsets = 0;
        short[] q = a.q;
        float[] dx = a.d;
        float[] ds = a.ds;
        long bo = off;
        int xo = 32 * xb;
        for (int b = xb; b < xb + nb; b++) {
            float dw = half(w, bo);
            ShortVector v = u8(w, bo + Q4_0.OFF_QS);
            ShortVector p = v.and((short) 15).mul(ShortVector.fromArray(S16, q, xo))
                    .add(v.lanewise(VectorOperators.LSHR, 4).mul(ShortVector.fromArray(S16, q, xo + 16)));
            acc = smallPairSums(p).fma(FloatVector.broadcast(F, dw * dx[b]), acc);
            offsets += dw * ds[b]; // one scalar FMA: cheaper than taking 8 off both halves in the short lanes
            bo += Q4_0.BLOCK_BYTES;
            xo += 32;
        }
        acc.intoArray(a.lanes, 0);
        return Simd.sumLanes(a.lanes, 0) - 8 * offsets;
    }

    static float dotQ4_0Scalar(MemorySegment w, long off, Q8Activations a, int xb, int nb) {
        float sum = 0;
        for (int b = 0; b < nb; b++) {
            long bo = off + (long) b * Q4_0.BLOCK_BYTES;
            int xo = 32 * (xb + b);
            int isum = 0;
            for (int j = 0; j < 16; j++) {
                int v = w.get(ValueLayout.JAVA_BYTE, bo + Q4_0.OFF_QS + j) & 0xFF;
                isum += ((v & 15) - 8) * a.q[xo + j] + ((v >>> 4) - 8) * a.q[xo + 16 + j];
            }
            sum += half(w, bo) * a.d[xb + b] * isum;
        }
        return sum;
    }

    // ---- Q8_0 × Q8_0: Σ_b d_w·d_x·Σ q·x ----

    // Kept in its first form: the hoisted, running-offset shape of the others measured slower here (TinyLlama
    // Q8_0 tg32 11.5 against 13.5 t/s, alternated).
    static float dotQ8_0(MemorySegment w, long off, Q8Activations a, int xb, int nb) {
        FloatVector acc = FloatVector.zero(F);
        for (int b = 0; b < nb; b++) {
            long bo = off + (long) b * Q8_0.BLOCK_BYTES;
            int xo = 32 * (xb + b);
            ShortVector p = s8(w, bo + Q8_0.OFF_QS).mul(ShortVector.fromArray(S16, a.q, xo)).add(s8(w, bo + Q8_0.OFF_QS + 16).mul(ShortVector.fromArray(S16, a.q, xo + 16)));
            acc = pairSums(p).fma(FloatVector.broadcast(F, half(w, bo) * a.d[xb + b]), acc);
        }
        return Simd.sum(acc);
    }

    static float dotQ8_0Scalar(MemorySegment w, long off, Q8Activations a, int xb, int nb) {
        float sum = 0;
        for (int b = 0; b < nb; b++) {
            long bo = off + (long) b * Q8_0.BLOCK_BYTES;
            int xo = 32 * (xb + b);
            int isum = 0;
            for (int j = 0; j < 32; j++) {
                isum += w.get(ValueLayout.JAVA_BYTE, bo + Q8_0.OFF_QS + j) * a.q[xo + j];
            }
            sum += half(w, bo) * a.d[xb + b] * isum;
        }
        return sum;
    }

    // ---- Q4_K × Q8_K: Σ_sub d·d_x·sc·Σ q·x − dmin·d_x·m·Σx ----

    static float dotQ4_K(MemorySegment w, long off, Q8Activations a, int xb, int nb) {
        FloatVector acc = FloatVector.zero(F);
        short[] q = a.q;
        float[] dxs = a.d;
        int[] s32 = a.s32;
        float mins = 0;
        long bo = off;
        int xo = 256 * xb;
        for (int i = xb; i < xb + nb; i++) {
            float dx = dxs[i];
            float d = half(w, bo + Q4_K.OFF_D) * dx;
            float dmin = half(w, bo + Q4_K.OFF_DMIN) * dx;
            // The 12 scale bytes unpacked four at a time (llama.cpp's kmask trick): byte k of scales/mins is
            // sub-block k's (k < 4) or k + 4's 6-bit value.
            long sc8 = w.get(Bits.I64, bo + Q4_K.OFF_SCALES);
            int w2 = w.get(Bits.I32, bo + Q4_K.OFF_SCALES + 8);
            int w0 = (int) sc8;
            int w1 = (int) (sc8 >>> 32);
            long scales = (w0 & 0x3F3F3F3FL) | (long) ((w2 & 0x0F0F0F0F) | ((w0 >>> 2) & 0x30303030)) << 32;
            long mins8 = (w1 & 0x3F3F3F3FL) | (long) (((w2 >>> 4) & 0x0F0F0F0F) | ((w1 >>> 2) & 0x30303030)) << 32;
            int summs = 0;
            for (int k = 0; k < 8; k++) {
                summs += (int) (mins8 >>> (8 * k) & 0xFF) * s32[8 * i + k];
            }
            mins += dmin * summs;
            // The sub-block scales are small integers: the whole super-block sums exactly in int lanes and is
            // converted and scaled once, with no float dependency chain through the sub-blocks.
            IntVector isum = IntVector.zero(Simd.I);
            for (int j = 0; j < 4; j++) {
                ShortVector v0 = u8(w, bo + Q4_K.OFF_QS + 32L * j);
                ShortVector v1 = u8(w, bo + Q4_K.OFF_QS + 32L * j + 16);
                int xj = xo + 64 * j;
                ShortVector lo = v0.and((short) 15).mul(ShortVector.fromArray(S16, q, xj))
                        .add(v1.and((short) 15).mul(ShortVector.fromArray(S16, q, xj + 16)));
                ShortVector hi = v0.lanewise(VectorOperators.LSHR, 4).mul(ShortVector.fromArray(S16, q, xj + 32))
                        .add(v1.lanewise(VectorOperators.LSHR, 4).mul(ShortVector.fromArray(S16, q, xj + 48)));
                int s0 = (int) (scales >>> (16 * j)) & 0xFF;
                int s1 = (int) (scales >>> (16 * j + 8)) & 0xFF;
                isum = isum.add(smallPairInts(lo).mul(s0)).add(smallPairInts(hi).mul(s1));
            }
            acc = ((FloatVector) isum.convert(VectorOperators.I2F, 0)).fma(FloatVector.broadcast(F, d), acc);
            bo += Q4_K.BLOCK_BYTES;
            xo += 256;
        }
        acc.intoArray(a.lanes, 0);
        return Simd.sumLanes(a.lanes, 0) - mins;
    }

    static float dotQ4_KScalar(MemorySegment w, long off, Q8Activations a, int xb, int nb) {
        float sum = 0;
        for (int i = 0; i < nb; i++) {
            long bo = off + (long) i * Q4_K.BLOCK_BYTES;
            long sc8 = w.get(Bits.I64, bo + Q4_K.OFF_SCALES);
            int sc4 = w.get(Bits.I32, bo + Q4_K.OFF_SCALES + 8);
            int sumi = 0;
            int summs = 0;
            for (int j = 0; j < 4; j++) {
                int xo = 256 * (xb + i) + 64 * j;
                int lo = 0;
                int hi = 0;
                for (int l = 0; l < 32; l++) {
                    int v = w.get(ValueLayout.JAVA_BYTE, bo + Q4_K.OFF_QS + 32L * j + l) & 0xFF;
                    lo += (v & 15) * a.q[xo + l];
                    hi += (v >>> 4) * a.q[xo + 32 + l];
                }
                int sm0 = KQuantKernels.scaleMinK4(sc8, sc4, 2 * j);
                int sm1 = KQuantKernels.scaleMinK4(sc8, sc4, 2 * j + 1);
                sumi += (sm0 & 63) * lo + (sm1 & 63) * hi;
                int sub = 8 * (xb + i) + 2 * j;
                summs += (sm0 >>> 8) * s32(a, sub) + (sm1 >>> 8) * s32(a, sub + 1);
            }
            float dx = a.d[xb + i];
            sum += half(w, bo + Q4_K.OFF_D) * dx * sumi - half(w, bo + Q4_K.OFF_DMIN) * dx * summs;
        }
        return sum;
    }

    // ---- Q6_K × Q8_K: Σ_j d·d_x·sc_j·(Σ q·x − 32·Σx), sub-blocks of 16 (layout: see KQuantKernels.dotQ6_K) ----

    static float dotQ6_K(MemorySegment w, long off, Q8Activations a, int xb, int nb) {
        FloatVector acc = FloatVector.zero(F);
        short[] q = a.q;
        float[] dxs = a.d;
        long bo = off;
        int xo = 256 * xb;
        for (int i = xb; i < xb + nb; i++) {
            // As in dotQ4_K: int8 scales times exact sub-block sums, accumulated in int lanes per super-block; the
            // offset of 32 is taken off in the short lanes (|(q − 32)·x| ≤ 32·127 keeps smallPairInts exact).
            float d = half(w, bo + Q6_K.OFF_D) * dxs[i];
            IntVector isum = IntVector.zero(Simd.I);
            for (int n = 0; n < 2; n++) {
                long ql = bo + Q6_K.OFF_QL + 64L * n;
                long qh = bo + Q6_K.OFF_QH + 32L * n;
                long sc = w.get(Bits.I64, bo + Q6_K.OFF_SCALES + 8L * n);
                int xn = xo + 128 * n;
                for (int k = 0; k < 2; k++) {
                    for (int is = 0; is < 2; is++) {
                        ShortVector v = u8(w, ql + 32L * k + 16 * is);
                        ShortVector h = u8(w, qh + 16 * is).lanewise(VectorOperators.LSHR, 2 * k);
                        ShortVector lo = v.and((short) 15).or(h.and((short) 3).lanewise(VectorOperators.LSHL, 4)).sub((short) 32)
                                .mul(ShortVector.fromArray(S16, q, xn + 32 * k + 16 * is));
                        ShortVector hi = v.lanewise(VectorOperators.LSHR, 4).or(h.and((short) 0x30)).sub((short) 32)
                                .mul(ShortVector.fromArray(S16, q, xn + 64 + 32 * k + 16 * is));
                        int sl = (byte) (sc >>> (8 * (is + 2 * k)));
                        int sh = (byte) (sc >>> (8 * (is + 4 + 2 * k)));
                        isum = isum.add(smallPairInts(lo).mul(sl)).add(smallPairInts(hi).mul(sh));
                    }
                }
            }
            acc = ((FloatVector) isum.convert(VectorOperators.I2F, 0)).fma(FloatVector.broadcast(F, d), acc);
            bo += Q6_K.BLOCK_BYTES;
            xo += 256;
        }
        acc.intoArray(a.lanes, 0);
        return Simd.sumLanes(a.lanes, 0);
    }

    static float dotQ6_KScalar(MemorySegment w, long off, Q8Activations a, int xb, int nb) {
        float sum = 0;
        for (int i = 0; i < nb; i++) {
            long bo = off + (long) i * Q6_K.BLOCK_BYTES;
            int sumi = 0;
            for (int n = 0; n < 2; n++) {
                long ql = bo + Q6_K.OFF_QL + 64L * n;
                long qh = bo + Q6_K.OFF_QH + 32L * n;
                long sc = bo + Q6_K.OFF_SCALES + 8L * n;
                int xo = 256 * (xb + i) + 128 * n;
                for (int l = 0; l < 32; l++) {
                    int is = l / 16;
                    int a0 = w.get(ValueLayout.JAVA_BYTE, ql + l) & 0xFF;
                    int a1 = w.get(ValueLayout.JAVA_BYTE, ql + 32 + l) & 0xFF;
                    int h = w.get(ValueLayout.JAVA_BYTE, qh + l) & 0xFF;
                    int q1 = ((a0 & 15) | (h & 3) << 4) - 32;
                    int q2 = ((a1 & 15) | ((h >>> 2) & 3) << 4) - 32;
                    int q3 = ((a0 >>> 4) | ((h >>> 4) & 3) << 4) - 32;
                    int q4 = ((a1 >>> 4) | ((h >>> 6) & 3) << 4) - 32;
                    sumi += w.get(ValueLayout.JAVA_BYTE, sc + is) * q1 * a.q[xo + l]
                            + w.get(ValueLayout.JAVA_BYTE, sc + is + 2) * q2 * a.q[xo + 32 + l]
                            + w.get(ValueLayout.JAVA_BYTE, sc + is + 4) * q3 * a.q[xo + 64 + l]
                            + w.get(ValueLayout.JAVA_BYTE, sc + is + 6) * q4 * a.q[xo + 96 + l];
                }
            }
            sum += half(w, bo + Q6_K.OFF_D) * a.d[xb + i] * sumi;
        }
        return sum;
    }
}
