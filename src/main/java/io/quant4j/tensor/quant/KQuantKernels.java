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
 * multiplied into one vector per sub-block, the sub-block scale is applied once to that vector, and the mins or
 * level offsets come from the activations' 16/32-value sums instead of being applied per value.
 * References: {@link QuantizedMatrix#dotScalar} and each type's dequantizeBlock.
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
        if (j < 4) {
            return (w.get(java.lang.foreign.ValueLayout.JAVA_BYTE, sc + j) & 63)
                    | (w.get(java.lang.foreign.ValueLayout.JAVA_BYTE, sc + j + 4) & 63) << 8;
        }
        int b = w.get(java.lang.foreign.ValueLayout.JAVA_BYTE, sc + j + 4) & 0xFF;
        int lo = w.get(java.lang.foreign.ValueLayout.JAVA_BYTE, sc + j - 4) & 0xFF;
        int hi = w.get(java.lang.foreign.ValueLayout.JAVA_BYTE, sc + j) & 0xFF;
        return ((b & 0xF) | (lo >>> 6) << 4) | ((b >>> 4) | (hi >>> 6) << 4) << 8;
    }

    /** Σ_sub d·sc·Σ q·x − dmin·m·Σx over the super-blocks of a Q4_K row. */
    static float dotQ4_K(MemorySegment w, long off, float[] x, int xo, float[] s32, int so, int nb) {
        FloatVector acc0 = FloatVector.zero(F);
        FloatVector acc1 = FloatVector.zero(F);
        float mins = 0;
        for (int i = 0; i < nb; i++) {
            long bo = off + (long) i * Q4_K.BLOCK_BYTES;
            float d = half(w, bo + Q4_K.OFF_D);
            float dmin = half(w, bo + Q4_K.OFF_DMIN);
            int xb = xo + 256 * i;
            for (int j = 0; j < 4; j++) {
                long q = bo + Q4_K.OFF_QS + 32L * j;
                int xl = xb + 64 * j;
                FloatVector lo0 = FloatVector.zero(F);
                FloatVector lo1 = FloatVector.zero(F);
                FloatVector hi0 = FloatVector.zero(F);
                FloatVector hi1 = FloatVector.zero(F);
                for (int c = 0; c < 32; c += 16) {
                    IntVector a = u8(w, q + c);
                    IntVector b = u8(w, q + c + 8);
                    lo0 = toFloat(a.and(15)).fma(xv(x, xl + c), lo0);
                    lo1 = toFloat(b.and(15)).fma(xv(x, xl + c + 8), lo1);
                    hi0 = toFloat(a.lanewise(VectorOperators.LSHR, 4)).fma(xv(x, xl + 32 + c), hi0);
                    hi1 = toFloat(b.lanewise(VectorOperators.LSHR, 4)).fma(xv(x, xl + 40 + c), hi1);
                }
                int sm0 = scaleMinK4(w, bo + Q4_K.OFF_SCALES, 2 * j);
                int sm1 = scaleMinK4(w, bo + Q4_K.OFF_SCALES, 2 * j + 1);
                acc0 = lo0.add(lo1).fma(bc(d * (sm0 & 63)), acc0);
                acc1 = hi0.add(hi1).fma(bc(d * (sm1 & 63)), acc1);
                mins += dmin * ((sm0 >>> 8) * s32[so + 8 * i + 2 * j] + (sm1 >>> 8) * s32[so + 8 * i + 2 * j + 1]);
            }
        }
        return Simd.sum(acc0.add(acc1)) - mins;
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
        FloatVector acc0 = FloatVector.zero(F);
        FloatVector acc1 = FloatVector.zero(F);
        float mins = 0;
        for (int i = 0; i < nb; i++) {
            long bo = off + (long) i * Q5_K.BLOCK_BYTES;
            float d = half(w, bo + Q5_K.OFF_D);
            float dmin = half(w, bo + Q5_K.OFF_DMIN);
            int xb = xo + 256 * i;
            for (int j = 0; j < 4; j++) {
                long q = bo + Q5_K.OFF_QS + 32L * j;
                int xl = xb + 64 * j;
                FloatVector lo = FloatVector.zero(F);
                FloatVector hi = FloatVector.zero(F);
                for (int c = 0; c < 32; c += 8) {
                    IntVector a = u8(w, q + c);
                    IntVector h = u8(w, bo + Q5_K.OFF_QH + c);
                    IntVector ql = a.and(15).or(h.lanewise(VectorOperators.LSHR, 2 * j).and(1).lanewise(VectorOperators.LSHL, 4));
                    IntVector qh = a.lanewise(VectorOperators.LSHR, 4).or(h.lanewise(VectorOperators.LSHR, 2 * j + 1).and(1).lanewise(VectorOperators.LSHL, 4));
                    lo = toFloat(ql).fma(xv(x, xl + c), lo);
                    hi = toFloat(qh).fma(xv(x, xl + 32 + c), hi);
                }
                int sm0 = scaleMinK4(w, bo + Q5_K.OFF_SCALES, 2 * j);
                int sm1 = scaleMinK4(w, bo + Q5_K.OFF_SCALES, 2 * j + 1);
                acc0 = lo.fma(bc(d * (sm0 & 63)), acc0);
                acc1 = hi.fma(bc(d * (sm1 & 63)), acc1);
                mins += dmin * ((sm0 >>> 8) * s32[so + 8 * i + 2 * j] + (sm1 >>> 8) * s32[so + 8 * i + 2 * j + 1]);
            }
        }
        return Simd.sum(acc0.add(acc1)) - mins;
    }

    // ---- Q6_K: sixteen sub-blocks of 16, int8 scales, x ≈ d·sc·(q − 32) ----

    /** Σ_j d·sc_j·(Σ q·x − 32·Σx) over the sixteen sub-blocks of each super-block. */
    static float dotQ6_K(MemorySegment w, long off, float[] x, int xo, float[] s16, int so, int nb) {
        FloatVector acc0 = FloatVector.zero(F);
        FloatVector acc1 = FloatVector.zero(F);
        float offsets = 0;
        for (int i = 0; i < nb; i++) {
            long bo = off + (long) i * Q6_K.BLOCK_BYTES;
            float d = half(w, bo + Q6_K.OFF_D);
            for (int n = 0; n < 2; n++) {
                long ql = bo + Q6_K.OFF_QL + 64L * n;
                long qh = bo + Q6_K.OFF_QH + 32L * n;
                long sc = bo + Q6_K.OFF_SCALES + 8L * n;
                int xb = xo + 256 * i + 128 * n;
                // is = 0, 1: values 16·is .. 16·is+15 of each of the four 32-value quarters
                for (int is = 0; is < 2; is++) {
                    FloatVector v1 = FloatVector.zero(F);
                    FloatVector v2 = FloatVector.zero(F);
                    FloatVector v3 = FloatVector.zero(F);
                    FloatVector v4 = FloatVector.zero(F);
                    for (int c = 16 * is; c < 16 * is + 16; c += 8) {
                        IntVector a = u8(w, ql + c);
                        IntVector b = u8(w, ql + 32 + c);
                        IntVector h = u8(w, qh + c);
                        IntVector q1 = a.and(15).or(h.and(3).lanewise(VectorOperators.LSHL, 4));
                        IntVector q2 = b.and(15).or(h.lanewise(VectorOperators.LSHL, 2).and(0x30));
                        IntVector q3 = a.lanewise(VectorOperators.LSHR, 4).or(h.and(0x30));
                        IntVector q4 = b.lanewise(VectorOperators.LSHR, 4).or(h.lanewise(VectorOperators.LSHR, 2).and(0x30));
                        v1 = toFloat(q1).fma(xv(x, xb + c), v1);
                        v2 = toFloat(q2).fma(xv(x, xb + 32 + c), v2);
                        v3 = toFloat(q3).fma(xv(x, xb + 64 + c), v3);
                        v4 = toFloat(q4).fma(xv(x, xb + 96 + c), v4);
                    }
                    float d1 = d * w.get(java.lang.foreign.ValueLayout.JAVA_BYTE, sc + is);
                    float d2 = d * w.get(java.lang.foreign.ValueLayout.JAVA_BYTE, sc + is + 2);
                    float d3 = d * w.get(java.lang.foreign.ValueLayout.JAVA_BYTE, sc + is + 4);
                    float d4 = d * w.get(java.lang.foreign.ValueLayout.JAVA_BYTE, sc + is + 6);
                    acc0 = v1.fma(bc(d1), acc0);
                    acc1 = v2.fma(bc(d2), acc1);
                    acc0 = v3.fma(bc(d3), acc0);
                    acc1 = v4.fma(bc(d4), acc1);
                    int sub = so + 16 * i + 8 * n + is;
                    offsets += d1 * s16[sub] + d2 * s16[sub + 2] + d3 * s16[sub + 4] + d4 * s16[sub + 6];
                }
            }
        }
        return Simd.sum(acc0.add(acc1)) - 32 * offsets;
    }

    static void dequantQ6_K(MemorySegment w, long off, float[] y, int yo, int nb) {
        for (int i = 0; i < nb; i++) {
            long bo = off + (long) i * Q6_K.BLOCK_BYTES;
            float d = half(w, bo + Q6_K.OFF_D);
            for (int n = 0; n < 2; n++) {
                long ql = bo + Q6_K.OFF_QL + 64L * n;
                long qh = bo + Q6_K.OFF_QH + 32L * n;
                long sc = bo + Q6_K.OFF_SCALES + 8L * n;
                int o = yo + 256 * i + 128 * n;
                for (int c = 0; c < 32; c += 8) {
                    int is = c / 16;
                    IntVector a = u8(w, ql + c);
                    IntVector b = u8(w, ql + 32 + c);
                    IntVector h = u8(w, qh + c);
                    IntVector q1 = a.and(15).or(h.and(3).lanewise(VectorOperators.LSHL, 4)).sub(32);
                    IntVector q2 = b.and(15).or(h.lanewise(VectorOperators.LSHL, 2).and(0x30)).sub(32);
                    IntVector q3 = a.lanewise(VectorOperators.LSHR, 4).or(h.and(0x30)).sub(32);
                    IntVector q4 = b.lanewise(VectorOperators.LSHR, 4).or(h.lanewise(VectorOperators.LSHR, 2).and(0x30)).sub(32);
                    toFloat(q1).mul(d * w.get(java.lang.foreign.ValueLayout.JAVA_BYTE, sc + is)).intoArray(y, o + c);
                    toFloat(q2).mul(d * w.get(java.lang.foreign.ValueLayout.JAVA_BYTE, sc + is + 2)).intoArray(y, o + 32 + c);
                    toFloat(q3).mul(d * w.get(java.lang.foreign.ValueLayout.JAVA_BYTE, sc + is + 4)).intoArray(y, o + 64 + c);
                    toFloat(q4).mul(d * w.get(java.lang.foreign.ValueLayout.JAVA_BYTE, sc + is + 6)).intoArray(y, o + 96 + c);
                }
            }
        }
    }

    // ---- Q2_K: sixteen sub-blocks of 16, 4-bit scale and min each, 2-bit levels in bit pairs ----

    /** Σ_j d·(sc_j & 15)·Σ q·x − dmin·(sc_j >> 4)·Σx. */
    static float dotQ2_K(MemorySegment w, long off, float[] x, int xo, float[] s16, int so, int nb) {
        FloatVector acc0 = FloatVector.zero(F);
        FloatVector acc1 = FloatVector.zero(F);
        float mins = 0;
        for (int i = 0; i < nb; i++) {
            long bo = off + (long) i * Q2_K.BLOCK_BYTES;
            float d = half(w, bo + Q2_K.OFF_D);
            float dmin = half(w, bo + Q2_K.OFF_DMIN);
            for (int n = 0; n < 2; n++) {
                long q = bo + Q2_K.OFF_QS + 32L * n;
                IntVector v0 = u8(w, q);
                IntVector v1 = u8(w, q + 8);
                IntVector v2 = u8(w, q + 16);
                IntVector v3 = u8(w, q + 24);
                for (int j = 0; j < 4; j++) {
                    int shift = 2 * j;
                    int xl = xo + 256 * i + 128 * n + 32 * j;
                    FloatVector a = toFloat(v0.lanewise(VectorOperators.LSHR, shift).and(3)).mul(xv(x, xl))
                            .add(toFloat(v1.lanewise(VectorOperators.LSHR, shift).and(3)).mul(xv(x, xl + 8)));
                    FloatVector b = toFloat(v2.lanewise(VectorOperators.LSHR, shift).and(3)).mul(xv(x, xl + 16))
                            .add(toFloat(v3.lanewise(VectorOperators.LSHR, shift).and(3)).mul(xv(x, xl + 24)));
                    int is = 8 * n + 2 * j;
                    int sc0 = w.get(java.lang.foreign.ValueLayout.JAVA_BYTE, bo + Q2_K.OFF_SCALES + is) & 0xFF;
                    int sc1 = w.get(java.lang.foreign.ValueLayout.JAVA_BYTE, bo + Q2_K.OFF_SCALES + is + 1) & 0xFF;
                    acc0 = a.fma(bc(d * (sc0 & 15)), acc0);
                    acc1 = b.fma(bc(d * (sc1 & 15)), acc1);
                    mins += dmin * ((sc0 >>> 4) * s16[so + 16 * i + is] + (sc1 >>> 4) * s16[so + 16 * i + is + 1]);
                }
            }
        }
        return Simd.sum(acc0.add(acc1)) - mins;
    }

    // ---- Q3_K: sixteen sub-blocks of 16, signed 6-bit scales, 3-bit levels (bit pairs + hmask bit) ----

    /** Signed scale (−32..31) of sub-block j from the 12 packed bytes at {@code sc}. */
    private static int scaleQ3(MemorySegment w, long sc, int j) {
        int lo = j < 8 ? w.get(java.lang.foreign.ValueLayout.JAVA_BYTE, sc + j) & 0xF
                : (w.get(java.lang.foreign.ValueLayout.JAVA_BYTE, sc + j - 8) & 0xFF) >>> 4;
        int hi = (w.get(java.lang.foreign.ValueLayout.JAVA_BYTE, sc + 8 + j % 4) >>> (2 * (j / 4))) & 3;
        return (lo | hi << 4) - 32;
    }

    /** Σ_j d·sc_j·(Σ q·x − 4·Σx), q = bit pair | hmask bit << 2. */
    static float dotQ3_K(MemorySegment w, long off, float[] x, int xo, float[] s16, int so, int nb) {
        FloatVector acc0 = FloatVector.zero(F);
        FloatVector acc1 = FloatVector.zero(F);
        float offsets = 0;
        for (int i = 0; i < nb; i++) {
            long bo = off + (long) i * Q3_K.BLOCK_BYTES;
            float d = half(w, bo + Q3_K.OFF_D);
            IntVector h0 = u8(w, bo + Q3_K.OFF_HMASK);
            IntVector h1 = u8(w, bo + Q3_K.OFF_HMASK + 8);
            IntVector h2 = u8(w, bo + Q3_K.OFF_HMASK + 16);
            IntVector h3 = u8(w, bo + Q3_K.OFF_HMASK + 24);
            for (int n = 0; n < 2; n++) {
                long q = bo + Q3_K.OFF_QS + 32L * n;
                IntVector v0 = u8(w, q);
                IntVector v1 = u8(w, q + 8);
                IntVector v2 = u8(w, q + 16);
                IntVector v3 = u8(w, q + 24);
                for (int j = 0; j < 4; j++) {
                    int shift = 2 * j;
                    int m = 4 * n + j;
                    int xl = xo + 256 * i + 128 * n + 32 * j;
                    FloatVector a = toFloat(level3(v0, h0, shift, m)).mul(xv(x, xl))
                            .add(toFloat(level3(v1, h1, shift, m)).mul(xv(x, xl + 8)));
                    FloatVector b = toFloat(level3(v2, h2, shift, m)).mul(xv(x, xl + 16))
                            .add(toFloat(level3(v3, h3, shift, m)).mul(xv(x, xl + 24)));
                    int is = 8 * n + 2 * j;
                    float d0 = d * scaleQ3(w, bo + Q3_K.OFF_SCALES, is);
                    float d1 = d * scaleQ3(w, bo + Q3_K.OFF_SCALES, is + 1);
                    acc0 = a.fma(bc(d0), acc0);
                    acc1 = b.fma(bc(d1), acc1);
                    offsets += d0 * s16[so + 16 * i + is] + d1 * s16[so + 16 * i + is + 1];
                }
            }
        }
        return Simd.sum(acc0.add(acc1)) - 4 * offsets;
    }

    private static IntVector level3(IntVector q, IntVector h, int shift, int m) {
        return q.lanewise(VectorOperators.LSHR, shift).and(3).or(h.lanewise(VectorOperators.LSHR, m).and(1).lanewise(VectorOperators.LSHL, 2));
    }
}
