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

    // ---- Q6_K: sixteen sub-blocks of 16, int8 scales, x ≈ d·sc·(q − 32) ----

    /**
     * Σ_j d·sc_j·(Σ q·x − 32·Σx) over the sixteen sub-blocks of each super-block. Per 128 values, byte c of ql
     * holds values c (low nibble) and c+64 (high), byte c+32 values c+32 and c+96; qh byte c holds their top bits
     * in pairs 0-1, 4-5 (for ql[c]) and 2-3, 6-7 (for ql[c+32]).
     */
    static float dotQ6_K(MemorySegment w, long off, float[] x, int xo, float[] s16, int so, int nb) {
        FloatVector acc = FloatVector.zero(F);
        float offsets = 0;
        for (int i = 0; i < nb; i++) {
            long bo = off + (long) i * Q6_K.BLOCK_BYTES;
            float d = half(w, bo + Q6_K.OFF_D);
            for (int n = 0; n < 2; n++) {
                long ql = bo + Q6_K.OFF_QL + 64L * n;
                long qh = bo + Q6_K.OFF_QH + 32L * n;
                long sc = bo + Q6_K.OFF_SCALES + 8L * n;
                int xb = xo + 256 * i + 128 * n;
                for (int k = 0; k < 2; k++) {
                    for (int is = 0; is < 2; is++) {
                        FloatVector lo = FloatVector.zero(F);
                        FloatVector hi = FloatVector.zero(F);
                        for (int c = 16 * is; c < 16 * is + 16; c += 8) {
                            IntVector a = u8(w, ql + 32L * k + c);
                            IntVector h = u8(w, qh + c).lanewise(VectorOperators.LSHR, 2 * k);
                            lo = toFloat(a.and(15).or(h.and(3).lanewise(VectorOperators.LSHL, 4))).fma(xv(x, xb + 32 * k + c), lo);
                            hi = toFloat(a.lanewise(VectorOperators.LSHR, 4).or(h.and(0x30))).fma(xv(x, xb + 64 + 32 * k + c), hi);
                        }
                        float dl = d * w.get(java.lang.foreign.ValueLayout.JAVA_BYTE, sc + is + 2 * k);
                        float dh = d * w.get(java.lang.foreign.ValueLayout.JAVA_BYTE, sc + is + 4 + 2 * k);
                        acc = lo.fma(bc(dl), acc);
                        acc = hi.fma(bc(dh), acc);
                        int sub = so + 16 * i + 8 * n + is;
                        offsets += dl * s16[sub + 2 * k] + dh * s16[sub + 4 + 2 * k];
                    }
                }
            }
        }
        return Simd.sum(acc) - 32 * offsets;
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

    /** Σ_j d·(sc_j & 15)·Σ q·x − dmin·(sc_j >> 4)·Σx; bit pair j of byte l is value 32j + l of the 128. */
    static float dotQ2_K(MemorySegment w, long off, float[] x, int xo, float[] s16, int so, int nb) {
        FloatVector acc = FloatVector.zero(F);
        float mins = 0;
        for (int i = 0; i < nb; i++) {
            long bo = off + (long) i * Q2_K.BLOCK_BYTES;
            float d = half(w, bo + Q2_K.OFF_D);
            float dmin = half(w, bo + Q2_K.OFF_DMIN);
            for (int n = 0; n < 2; n++) {
                long q = bo + Q2_K.OFF_QS + 32L * n;
                for (int j = 0; j < 4; j++) {
                    for (int half = 0; half < 2; half++) {
                        int xl = xo + 256 * i + 128 * n + 32 * j + 16 * half;
                        FloatVector s = FloatVector.zero(F);
                        for (int c = 0; c < 16; c += 8) {
                            IntVector v = u8(w, q + 16 * half + c);
                            s = toFloat(v.lanewise(VectorOperators.LSHR, 2 * j).and(3)).fma(xv(x, xl + c), s);
                        }
                        int is = 8 * n + 2 * j + half;
                        int sc = w.get(java.lang.foreign.ValueLayout.JAVA_BYTE, bo + Q2_K.OFF_SCALES + is) & 0xFF;
                        acc = s.fma(bc(d * (sc & 15)), acc);
                        mins += dmin * (sc >>> 4) * s16[so + 16 * i + is];
                    }
                }
            }
        }
        return Simd.sum(acc) - mins;
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
        FloatVector acc = FloatVector.zero(F);
        float offsets = 0;
        for (int i = 0; i < nb; i++) {
            long bo = off + (long) i * Q3_K.BLOCK_BYTES;
            float d = half(w, bo + Q3_K.OFF_D);
            for (int n = 0; n < 2; n++) {
                long q = bo + Q3_K.OFF_QS + 32L * n;
                for (int j = 0; j < 4; j++) {
                    int m = 4 * n + j;
                    for (int half = 0; half < 2; half++) {
                        int xl = xo + 256 * i + 128 * n + 32 * j + 16 * half;
                        FloatVector s = FloatVector.zero(F);
                        for (int c = 0; c < 16; c += 8) {
                            IntVector v = u8(w, q + 16 * half + c);
                            IntVector h = u8(w, bo + Q3_K.OFF_HMASK + 16 * half + c);
                            IntVector level = v.lanewise(VectorOperators.LSHR, 2 * j).and(3)
                                    .or(h.lanewise(VectorOperators.LSHR, m).and(1).lanewise(VectorOperators.LSHL, 2));
                            s = toFloat(level).fma(xv(x, xl + c), s);
                        }
                        int is = 8 * n + 2 * j + half;
                        float dl = d * scaleQ3(w, bo + Q3_K.OFF_SCALES, is);
                        acc = s.fma(bc(dl), acc);
                        offsets += dl * s16[so + 16 * i + is];
                    }
                }
            }
        }
        return Simd.sum(acc) - 4 * offsets;
    }
}
