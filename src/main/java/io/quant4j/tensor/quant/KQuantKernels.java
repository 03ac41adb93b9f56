package io.quant4j.tensor.quant;

import io.quant4j.tensor.Simd;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;

import java.lang.foreign.MemorySegment;

import static io.quant4j.tensor.Simd.F;
import static io.quant4j.tensor.Simd.toFloat;
import static io.quant4j.tensor.Simd.u8;
import static io.quant4j.tensor.quant.QuantKernels.half;

/**
 * Vector API dot products of one k-quant row (Q2_K..Q6_K, super-blocks of 256) with float activations, and row
 * dequantization for the prefill path. As in {@link QuantKernels}: levels are widened to int lanes, converted and
 * multiplied into one vector per sub-block, and the sub-block scale is applied once to that vector. Q2_K, Q4_K and
 * Q5_K take their mins from the activations' 16/32-value sums; Q3_K and Q6_K subtract their level offsets (4, 32)
 * in the int lanes.
 * References: {@link QuantizedMatrix#dotScalar} and each type's dequantizeBlock. Decode's matrix-vector products of
 * Q4_K and Q6_K rows use the integer kernels of {@link IntDotKernels} (Q8_K activations) instead.
 */
final class KQuantKernels {
    private KQuantKernels() {
    }

    private static FloatVector xv(float[] x, int o) {
        return FloatVector.fromArray(F, x, o);
    }

    private static FloatVector bc(float v) {
        return FloatVector.broadcast(F, v);
    }

    // ---- Q4_K / Q5_K: eight sub-blocks of 32 with 6-bit scales and mins (get_scale_min_k4) ----

    /** Scale (low 6 bits of the result) and min (bits 8-13) of sub-block j from the 12 packed bytes. */
    private static int scaleMinK4(MemorySegment w, long sc, int j) {
        return scaleMinK4(w.get(Bits.I64, sc), w.get(Bits.I32, sc + 8), j);
    }

    /**
     * The same from the 12 bytes read as one long (bytes 0-7) and one int (8-11): scalar shifts only, so the kernels
     * that call it stay small for C2's inlining budget (two segment reads per super-block instead of six per pair).
     */
    static int scaleMinK4(long lo8, int hi4, int j) {
        if (j < 4) {
            return byteAt(lo8, hi4, j) & 63 | (byteAt(lo8, hi4, j + 4) & 63) << 8;
        }
        int b = byteAt(lo8, hi4, j + 4);
        int lo = byteAt(lo8, hi4, j - 4);
        int hi = byteAt(lo8, hi4, j);
        return ((b & 0xF) | (lo >>> 6) << 4) | ((b >>> 4) | (hi >>> 6) << 4) << 8;
    }

    private static int byteAt(long lo8, int hi4, int k) {
        return k < 8 ? (int) (lo8 >>> (8 * k)) & 0xFF : hi4 >>> (8 * (k - 8)) & 0xFF;
    }

    /** Σ_sub d·sc·Σ q·x − dmin·m·Σx over the super-blocks of a Q4_K row. (Loop shapes: see QuantKernels.) */
    static float dotQ4_K(MemorySegment w, long off, float[] x, int xo, float[] s32, int so, int nb) {
        FloatVector acc = FloatVector.zero(F);
        float mins = 0;
        for (int i = 0; i < nb; i++) {
            long bo = off + (long) i * Q4_K.BLOCK_BYTES;
            float d = half(w, bo + Q4_K.OFF_D);
            float dmin = half(w, bo + Q4_K.OFF_DMIN);
            long sc8 = w.get(Bits.I64, bo + Q4_K.OFF_SCALES);
            int sc4 = w.get(Bits.I32, bo + Q4_K.OFF_SCALES + 8);
            for (int j = 0; j < 4; j++) {
                long q = bo + Q4_K.OFF_QS + 32L * j;
                int xl = xo + 256 * i + 64 * j;
                FloatVector lo = FloatVector.zero(F);
                FloatVector hi = FloatVector.zero(F);
                for (int c = 0; c < 32; c += 8) {
                    IntVector a = u8(w, q + c);
                    lo = toFloat(a.and(15)).fma(xv(x, xl + c), lo);
                    hi = toFloat(a.lanewise(VectorOperators.LSHR, 4)).fma(xv(x, xl + 32 + c), hi);
                }
                int sm0 = scaleMinK4(sc8, sc4, 2 * j);
                int sm1 = scaleMinK4(sc8, sc4, 2 * j + 1);
                acc = lo.fma(bc(d * (sm0 & 63)), acc);
                acc = hi.fma(bc(d * (sm1 & 63)), acc);
                mins += dmin * ((sm0 >>> 8) * s32[so + 8 * i + 2 * j] + (sm1 >>> 8) * s32[so + 8 * i + 2 * j + 1]);
            }
        }
        return Simd.sum(acc) - mins;
    }

    static void dequantQ4_K(MemorySegment w, long off, float[] y, int yo, int nb) {
        for (int i = 0; i < nb; i++) {
            long bo = off + (long) i * Q4_K.BLOCK_BYTES;
            float d = half(w, bo + Q4_K.OFF_D);
            float dmin = half(w, bo + Q4_K.OFF_DMIN);
            for (int j = 0; j < 4; j++) {
                int sm0 = scaleMinK4(w, bo + Q4_K.OFF_SCALES, 2 * j);
                int sm1 = scaleMinK4(w, bo + Q4_K.OFF_SCALES, 2 * j + 1);
                FloatVector d0 = bc(d * (sm0 & 63));
                FloatVector m0 = bc(dmin * (sm0 >>> 8));
                FloatVector d1 = bc(d * (sm1 & 63));
                FloatVector m1 = bc(dmin * (sm1 >>> 8));
                int o = yo + 256 * i + 64 * j;
                for (int c = 0; c < 32; c += 8) {
                    IntVector a = u8(w, bo + Q4_K.OFF_QS + 32L * j + c);
                    toFloat(a.and(15)).mul(d0).sub(m0).intoArray(y, o + c);
                    toFloat(a.lanewise(VectorOperators.LSHR, 4)).mul(d1).sub(m1).intoArray(y, o + 32 + c);
                }
            }
        }
    }

    /** As Q4_K with a fifth bit per value from qh: bit 2j of qh[l] for value l of group j, bit 2j+1 for l+32. */
    static float dotQ5_K(MemorySegment w, long off, float[] x, int xo, float[] s32, int so, int nb) {
        FloatVector acc = FloatVector.zero(F);
        float mins = 0;
        for (int i = 0; i < nb; i++) {
            long bo = off + (long) i * Q5_K.BLOCK_BYTES;
            float d = half(w, bo + Q5_K.OFF_D);
            float dmin = half(w, bo + Q5_K.OFF_DMIN);
            long sc8 = w.get(Bits.I64, bo + Q5_K.OFF_SCALES);
            int sc4 = w.get(Bits.I32, bo + Q5_K.OFF_SCALES + 8);
            for (int j = 0; j < 4; j++) {
                long q = bo + Q5_K.OFF_QS + 32L * j;
                int xl = xo + 256 * i + 64 * j;
                FloatVector lo = FloatVector.zero(F);
                FloatVector hi = FloatVector.zero(F);
                for (int c = 0; c < 32; c += 8) {
                    IntVector a = u8(w, q + c);
                    IntVector h = u8(w, bo + Q5_K.OFF_QH + c).lanewise(VectorOperators.LSHR, 2 * j);
                    lo = toFloat(a.and(15).or(h.and(1).lanewise(VectorOperators.LSHL, 4))).fma(xv(x, xl + c), lo);
                    hi = toFloat(a.lanewise(VectorOperators.LSHR, 4).or(h.and(2).lanewise(VectorOperators.LSHL, 3))).fma(xv(x, xl + 32 + c), hi);
                }
                int sm0 = scaleMinK4(sc8, sc4, 2 * j);
                int sm1 = scaleMinK4(sc8, sc4, 2 * j + 1);
                acc = lo.fma(bc(d * (sm0 & 63)), acc);
                acc = hi.fma(bc(d * (sm1 & 63)), acc);
                mins += dmin * ((sm0 >>> 8) * s32[so + 8 * i + 2 * j] + (sm1 >>> 8) * s32[so + 8 * i + 2 * j + 1]);
            }
        }
        return Simd.sum(acc) - mins;
    }

    /** As dequantQ4_K with the fifth bit; scales and mins read once per super-block. */
    static void dequantQ5_K(MemorySegment w, long off, float[] y, int yo, int nb) {
        long bo = off;
        int o = yo;
        for (int i = 0; i < nb; i++, bo += Q5_K.BLOCK_BYTES, o += 256) {
            int dd = w.get(Bits.I32, bo + Q5_K.OFF_D);
            float d = Float.float16ToFloat((short) dd);
            float dmin = Float.float16ToFloat((short) (dd >>> 16));
            long sc8 = w.get(Bits.I64, bo + Q5_K.OFF_SCALES);
            int sc4 = w.get(Bits.I32, bo + Q5_K.OFF_SCALES + 8);
            for (int j = 0; j < 4; j++) {
                int sm0 = scaleMinK4(sc8, sc4, 2 * j);
                int sm1 = scaleMinK4(sc8, sc4, 2 * j + 1);
                float d0 = d * (sm0 & 63);
                float m0 = dmin * (sm0 >>> 8);
                float d1 = d * (sm1 & 63);
                float m1 = dmin * (sm1 >>> 8);
                long q = bo + Q5_K.OFF_QS + 32L * j;
                int oj = o + 64 * j;
                for (int c = 0; c < 32; c += 8) {
                    IntVector a = u8(w, q + c);
                    IntVector h = u8(w, bo + Q5_K.OFF_QH + c).lanewise(VectorOperators.LSHR, 2 * j);
                    toFloat(a.and(15).or(h.and(1).lanewise(VectorOperators.LSHL, 4))).mul(d0).sub(m0).intoArray(y, oj + c);
                    toFloat(a.lanewise(VectorOperators.LSHR, 4).or(h.and(2).lanewise(VectorOperators.LSHL, 3))).mul(d1).sub(m1).intoArray(y, oj + 32 + c);
                }
            }
        }
    }

    // ---- Q6_K: sixteen sub-blocks of 16, int8 scales, x ≈ d·sc·(q − 32) ----

    /*
     * The 16-value sub-block types (Q6_K, Q2_K, Q3_K) are walked in eight groups g of 32 values per super-block:
     * group g is values 32g..32g+31, its two sub-blocks have scales 2g and 2g+1, and its levels come from one 32-byte
     * run of the packed bits at one shift. The group loop body holds one widening chain per sub-block (few Vector API
     * call sites, see QuantKernels), the scale bytes are read as longs once per super-block, level offsets are taken
     * off in int lanes, and the even and odd sub-blocks accumulate into separate vectors to halve the FMA chain.
     *
     * Q6_K group g = 4n + k: ql bytes 64n + 32(k & 1) + l at nibble shift 4(k >> 1), qh bytes 32n + l at shift 2k.
     */

    /** Σ_s d·sc_s·Σ (q − 32)·x, one sub-block of 16 per iteration (one level chain in the body). */
    static float dotQ6_K(MemorySegment w, long off, float[] x, int xo, int nb) {
        FloatVector acc = FloatVector.zero(F);
        long bo = off;
        int xb = xo;
        for (int i = 0; i < nb; i++, bo += Q6_K.BLOCK_BYTES, xb += 256) {
            float d = half(w, bo + Q6_K.OFF_D);
            long sLo = w.get(Bits.I64, bo + Q6_K.OFF_SCALES);
            long sHi = w.get(Bits.I64, bo + Q6_K.OFF_SCALES + 8);
            for (int sb = 0; sb < 16; sb++) {
                int k = sb >> 1 & 3;
                long ql = bo + Q6_K.OFF_QL + 64L * (sb >> 3) + 32L * (k & 1) + 16L * (sb & 1);
                long qh = bo + Q6_K.OFF_QH + 32L * (sb >> 3) + 16L * (sb & 1);
                int qs = 4 * (k >> 1);
                int hs = 2 * k;
                int xs = xb + 16 * sb;
                FloatVector s = FloatVector.zero(F);
                for (int c = 0; c < 16; c += 8) {
                    s = toFloat(q6(w, ql + c, qh + c, qs, hs)).fma(xv(x, xs + c), s);
                }
                acc = s.fma(bc(d * (byte) ((sb < 8 ? sLo : sHi) >>> (8 * (sb & 7)))), acc);
            }
        }
        return Simd.sum(acc);
    }

    /** Eight Q6_K levels q − 32: ql nibbles at shift qs, qh bit pairs at shift hs. */
    private static IntVector q6(MemorySegment w, long ql, long qh, int qs, int hs) {
        return u8(w, ql).lanewise(VectorOperators.LSHR, qs).and(15)
                .or(u8(w, qh).lanewise(VectorOperators.LSHR, hs).and(3).lanewise(VectorOperators.LSHL, 4)).sub(32);
    }

    static void dequantQ6_K(MemorySegment w, long off, float[] y, int yo, int nb) {
        long bo = off;
        int o = yo;
        for (int i = 0; i < nb; i++, bo += Q6_K.BLOCK_BYTES, o += 256) {
            float d = half(w, bo + Q6_K.OFF_D);
            long sLo = w.get(Bits.I64, bo + Q6_K.OFF_SCALES);
            long sHi = w.get(Bits.I64, bo + Q6_K.OFF_SCALES + 8);
            for (int sb = 0; sb < 16; sb++) {
                int k = sb >> 1 & 3;
                long ql = bo + Q6_K.OFF_QL + 64L * (sb >> 3) + 32L * (k & 1) + 16L * (sb & 1);
                long qh = bo + Q6_K.OFF_QH + 32L * (sb >> 3) + 16L * (sb & 1);
                int qs = 4 * (k >> 1);
                int hs = 2 * k;
                float dl = d * (byte) ((sb < 8 ? sLo : sHi) >>> (8 * (sb & 7)));
                int os = o + 16 * sb;
                for (int c = 0; c < 16; c += 8) {
                    toFloat(q6(w, ql + c, qh + c, qs, hs)).mul(dl).intoArray(y, os + c);
                }
            }
        }
    }

    // ---- Q2_K: sixteen sub-blocks of 16, 4-bit scale and min each, 2-bit levels in bit pairs ----
    // Group g = 4n + j: bytes 32n + l of qs at shift 2j; scale bytes 2g, 2g + 1 (scale low nibble, min high).

    /** Σ_s d·(sc_s & 15)·Σ q·x − dmin·Σ_s (sc_s >> 4)·Σx, the mins eight sub-blocks to a vector. */
    static float dotQ2_K(MemorySegment w, long off, float[] x, int xo, float[] s16, int so, int nb) {
        FloatVector acc0 = FloatVector.zero(F);
        FloatVector acc1 = FloatVector.zero(F);
        FloatVector mins = FloatVector.zero(F);
        long bo = off;
        int xb = xo;
        int sb = so;
        for (int i = 0; i < nb; i++, bo += Q2_K.BLOCK_BYTES, xb += 256, sb += 16) {
            int dd = w.get(Bits.I32, bo + Q2_K.OFF_D);
            float d = Float.float16ToFloat((short) dd);
            float dmin = Float.float16ToFloat((short) (dd >>> 16));
            long sLo = w.get(Bits.I64, bo + Q2_K.OFF_SCALES);
            long sHi = w.get(Bits.I64, bo + Q2_K.OFF_SCALES + 8);
            FloatVector m = toFloat(u8(w, bo + Q2_K.OFF_SCALES + 8).lanewise(VectorOperators.LSHR, 4)).mul(xv(s16, sb + 8));
            m = toFloat(u8(w, bo + Q2_K.OFF_SCALES).lanewise(VectorOperators.LSHR, 4)).fma(xv(s16, sb), m);
            mins = m.fma(bc(dmin), mins);
            for (int g = 0; g < 8; g++) {
                long q = bo + Q2_K.OFF_QS + 32L * (g >> 2);
                int sh = 2 * (g & 3);
                int xg = xb + 32 * g;
                FloatVector lo = FloatVector.zero(F);
                FloatVector hi = FloatVector.zero(F);
                for (int c = 0; c < 16; c += 8) {
                    lo = toFloat(u8(w, q + c).lanewise(VectorOperators.LSHR, sh).and(3)).fma(xv(x, xg + c), lo);
                    hi = toFloat(u8(w, q + 16 + c).lanewise(VectorOperators.LSHR, sh).and(3)).fma(xv(x, xg + 16 + c), hi);
                }
                int pair = (int) ((g < 4 ? sLo : sHi) >>> (16 * (g & 3)));
                acc0 = lo.fma(bc(d * (pair & 15)), acc0);
                acc1 = hi.fma(bc(d * (pair >>> 8 & 15)), acc1);
            }
        }
        return Simd.sum(acc0.add(acc1)) - Simd.sum(mins);
    }

    static void dequantQ2_K(MemorySegment w, long off, float[] y, int yo, int nb) {
        long bo = off;
        int o = yo;
        for (int i = 0; i < nb; i++, bo += Q2_K.BLOCK_BYTES, o += 256) {
            int dd = w.get(Bits.I32, bo + Q2_K.OFF_D);
            float d = Float.float16ToFloat((short) dd);
            float dmin = Float.float16ToFloat((short) (dd >>> 16));
            long sLo = w.get(Bits.I64, bo + Q2_K.OFF_SCALES);
            long sHi = w.get(Bits.I64, bo + Q2_K.OFF_SCALES + 8);
            for (int g = 0; g < 8; g++) {
                long q = bo + Q2_K.OFF_QS + 32L * (g >> 2);
                int sh = 2 * (g & 3);
                int pair = (int) ((g < 4 ? sLo : sHi) >>> (16 * (g & 3)));
                float d0 = d * (pair & 15);
                float m0 = dmin * (pair >>> 4 & 15);
                float d1 = d * (pair >>> 8 & 15);
                float m1 = dmin * (pair >>> 12 & 15);
                int og = o + 32 * g;
                for (int c = 0; c < 32; c += 8) {
                    toFloat(u8(w, q + c).lanewise(VectorOperators.LSHR, sh).and(3)).mul(c < 16 ? d0 : d1).sub(c < 16 ? m0 : m1)
                            .intoArray(y, og + c);
                }
            }
        }
    }

    // ---- Q3_K: sixteen sub-blocks of 16, signed 6-bit scales, 3-bit levels (bit pairs + hmask bit) ----
    // Group g = 4n + j: bit pairs as Q2_K, high bit g of hmask bytes l; q = pair | hbit << 2, level q − 4.

    /** Signed scale (−32..31) of sub-block s from the 12 packed bytes read as a long (0-7) and an int (8-11). */
    private static int scaleQ3(long lo8, int hi4, int s) {
        int lo = (int) (lo8 >>> (8 * (s & 7) + 4 * (s >> 3))) & 15;
        int hi = hi4 >>> (8 * (s & 3) + 2 * (s >> 2)) & 3;
        return (lo | hi << 4) - 32;
    }

    /** Eight Q3_K levels q − 4: bit pairs of {@code q} at shift sh, bit g of the hmask bytes. */
    private static IntVector q3(MemorySegment w, long q, long hm, int sh, int g) {
        return u8(w, q).lanewise(VectorOperators.LSHR, sh).and(3)
                .or(u8(w, hm).lanewise(VectorOperators.LSHR, g).and(1).lanewise(VectorOperators.LSHL, 2)).sub(4);
    }

    /** Σ_s d·sc_s·Σ (q − 4)·x, one sub-block of 16 per iteration (one level chain in the body). */
    static float dotQ3_K(MemorySegment w, long off, float[] x, int xo, int nb) {
        FloatVector acc = FloatVector.zero(F);
        long bo = off;
        int xb = xo;
        for (int i = 0; i < nb; i++, bo += Q3_K.BLOCK_BYTES, xb += 256) {
            float d = half(w, bo + Q3_K.OFF_D);
            long lo8 = w.get(Bits.I64, bo + Q3_K.OFF_SCALES);
            int hi4 = w.get(Bits.I32, bo + Q3_K.OFF_SCALES + 8);
            for (int sb = 0; sb < 16; sb++) {
                int g = sb >> 1;
                long q = bo + Q3_K.OFF_QS + 32L * (g >> 2) + 16L * (sb & 1);
                long hm = bo + Q3_K.OFF_HMASK + 16L * (sb & 1);
                int sh = 2 * (g & 3);
                int xs = xb + 16 * sb;
                FloatVector s = FloatVector.zero(F);
                for (int c = 0; c < 16; c += 8) {
                    s = toFloat(q3(w, q + c, hm + c, sh, g)).fma(xv(x, xs + c), s);
                }
                acc = s.fma(bc(d * scaleQ3(lo8, hi4, sb)), acc);
            }
        }
        return Simd.sum(acc);
    }

    static void dequantQ3_K(MemorySegment w, long off, float[] y, int yo, int nb) {
        long bo = off;
        int o = yo;
        for (int i = 0; i < nb; i++, bo += Q3_K.BLOCK_BYTES, o += 256) {
            float d = half(w, bo + Q3_K.OFF_D);
            long lo8 = w.get(Bits.I64, bo + Q3_K.OFF_SCALES);
            int hi4 = w.get(Bits.I32, bo + Q3_K.OFF_SCALES + 8);
            long hm = bo + Q3_K.OFF_HMASK;
            for (int g = 0; g < 8; g++) {
                long q = bo + Q3_K.OFF_QS + 32L * (g >> 2);
                int sh = 2 * (g & 3);
                float d0 = d * scaleQ3(lo8, hi4, 2 * g);
                float d1 = d * scaleQ3(lo8, hi4, 2 * g + 1);
                int og = o + 32 * g;
                for (int c = 0; c < 32; c += 8) {
                    toFloat(q3(w, q + c, hm + c, sh, g)).mul(c < 16 ? d0 : d1).intoArray(y, og + c);
                }
            }
        }
    }
}
