package io.quant4j.model;

import io.quant4j.tensor.Simd;
import jdk.incubator.vector.FloatVector;

import static io.quant4j.tensor.Simd.F;

/**
 * One query head attending over {@code len} cached positions: scores q·k·scale, softmax, Σ p·v. The cache holds
 * one row of {@code kvDim} values per position ([pos][kvHead·headDim + d]), as F32 or as IEEE halves (F16 cache,
 * halving its memory and bandwidth as llama.cpp's default does). The vector kernels keep the output head in
 * registers across positions and use the Vector API's exp; {@link #attendScalar} is the reference (llama2.c's
 * loop, exp in double).
 */
final class Attention {
    /**
     * Below this head size the vector paths lose to the scalar ones: a dot of 8 values costs a horizontal sum per
     * position, and tiny models (stories260K: 8) run through them before C2 has compiled them.
     */
    static final int MIN_VECTOR_HEAD_DIM = 32;

    private Attention() {
    }

    /** Reference over an F32 cache. {@code att} receives the probabilities; the result goes to {@code out[outOff..]}. */
    static void attendScalar(float[] q, int qOff, float[] kc, float[] vc, int kvOff, int kvDim, int len, int headDim,
                             float scale, float[] att, float[] out, int outOff) {
        for (int t = 0; t < len; t++) {
            float s = 0f;
            for (int d = 0; d < headDim; d++) {
                s += q[qOff + d] * kc[t * kvDim + kvOff + d];
            }
            att[t] = s * scale;
        }
        float inv = softmaxScalar(att, len);
        for (int d = 0; d < headDim; d++) {
            out[outOff + d] = 0f;
        }
        for (int t = 0; t < len; t++) {
            float p = att[t] * inv;
            for (int d = 0; d < headDim; d++) {
                out[outOff + d] += p * vc[t * kvDim + kvOff + d];
            }
        }
    }

    static void attendF32(float[] q, int qOff, float[] kc, float[] vc, int kvOff, int kvDim, int len, int headDim,
                          float scale, float[] att, float[] out, int outOff) {
        if (!Simd.ENABLED || headDim % 8 != 0 || headDim < MIN_VECTOR_HEAD_DIM) {
            attendScalar(q, qOff, kc, vc, kvOff, kvDim, len, headDim, scale, att, out, outOff);
            return;
        }
        for (int t = 0; t < len; t++) {
            int k = t * kvDim + kvOff;
            FloatVector acc = FloatVector.fromArray(F, q, qOff).mul(FloatVector.fromArray(F, kc, k));
            for (int d = 8; d < headDim; d += 8) {
                acc = FloatVector.fromArray(F, q, qOff + d).fma(FloatVector.fromArray(F, kc, k + d), acc);
            }
            att[t] = Simd.sum(acc) * scale;
        }
        float inv = softmax(att, len);
        int d = 0;
        for (; d + 16 <= headDim; d += 16) {
            FloatVector o0 = FloatVector.zero(F);
            FloatVector o1 = FloatVector.zero(F);
            for (int t = 0; t < len; t++) {
                FloatVector p = FloatVector.broadcast(F, att[t]);
                int v = t * kvDim + kvOff + d;
                o0 = FloatVector.fromArray(F, vc, v).fma(p, o0);
                o1 = FloatVector.fromArray(F, vc, v + 8).fma(p, o1);
            }
            o0.mul(inv).intoArray(out, outOff + d);
            o1.mul(inv).intoArray(out, outOff + d + 8);
        }
        for (; d < headDim; d += 8) {
            FloatVector o0 = FloatVector.zero(F);
            for (int t = 0; t < len; t++) {
                o0 = FloatVector.fromArray(F, vc, t * kvDim + kvOff + d).fma(FloatVector.broadcast(F, att[t]), o0);
            }
            o0.mul(inv).intoArray(out, outOff + d);
        }
    }

    /** Reference over an F16 cache: every cached half widened with Float.float16ToFloat. */
    static void attendScalarF16(float[] q, int qOff, short[] kc, short[] vc, int kvOff, int kvDim, int len, int headDim,
                                float scale, float[] att, float[] out, int outOff) {
        for (int t = 0; t < len; t++) {
            float s = 0f;
            for (int d = 0; d < headDim; d++) {
                s += q[qOff + d] * Float.float16ToFloat(kc[t * kvDim + kvOff + d]);
            }
            att[t] = s * scale;
        }
        float inv = softmaxScalar(att, len);
        for (int d = 0; d < headDim; d++) {
            out[outOff + d] = 0f;
        }
        for (int t = 0; t < len; t++) {
            float p = att[t] * inv;
            for (int d = 0; d < headDim; d++) {
                out[outOff + d] += p * Float.float16ToFloat(vc[t * kvDim + kvOff + d]);
            }
        }
    }

    static void attendF16(float[] q, int qOff, short[] kc, short[] vc, int kvOff, int kvDim, int len, int headDim,
                          float scale, float[] att, float[] out, int outOff) {
        if (!Simd.ENABLED || headDim % 8 != 0 || headDim < MIN_VECTOR_HEAD_DIM) {
            attendScalarF16(q, qOff, kc, vc, kvOff, kvDim, len, headDim, scale, att, out, outOff);
            return;
        }
        for (int t = 0; t < len; t++) {
            int k = t * kvDim + kvOff;
            FloatVector acc = FloatVector.fromArray(F, q, qOff).mul(Simd.f16(kc, k));
            for (int d = 8; d < headDim; d += 8) {
                acc = FloatVector.fromArray(F, q, qOff + d).fma(Simd.f16(kc, k + d), acc);
            }
            att[t] = Simd.sum(acc) * scale;
        }
        float inv = softmax(att, len);
        int d = 0;
        for (; d + 16 <= headDim; d += 16) {
            FloatVector o0 = FloatVector.zero(F);
            FloatVector o1 = FloatVector.zero(F);
            for (int t = 0; t < len; t++) {
                FloatVector p = FloatVector.broadcast(F, att[t]);
                int v = t * kvDim + kvOff + d;
                o0 = Simd.f16(vc, v).fma(p, o0);
                o1 = Simd.f16(vc, v + 8).fma(p, o1);
            }
            o0.mul(inv).intoArray(out, outOff + d);
            o1.mul(inv).intoArray(out, outOff + d + 8);
        }
        for (; d < headDim; d += 8) {
            FloatVector o0 = FloatVector.zero(F);
            for (int t = 0; t < len; t++) {
                o0 = Simd.f16(vc, t * kvDim + kvOff + d).fma(FloatVector.broadcast(F, att[t]), o0);
            }
            o0.mul(inv).intoArray(out, outOff + d);
        }
    }

    /** Reference softmax: att[0..len) = exp(att − max) in place (Math.exp, Σ in double); returns 1 / Σ. */
    private static float softmaxScalar(float[] att, int len) {
        float max = Float.NEGATIVE_INFINITY;
        for (int t = 0; t < len; t++) {
            max = Math.max(max, att[t]);
        }
        double sum = 0;
        for (int t = 0; t < len; t++) {
            float e = (float) Math.exp(att[t] - max);
            att[t] = e;
            sum += e;
        }
        return (float) (1.0 / sum);
    }

    /** att[0..len) = exp(att − max) in place; returns 1 / Σ. */
    private static float softmax(float[] att, int len) {
        float max = Float.NEGATIVE_INFINITY;
        for (int t = 0; t < len; t++) {
            max = Math.max(max, att[t]);
        }
        FloatVector m = FloatVector.broadcast(F, max);
        FloatVector s = FloatVector.zero(F);
        int t = 0;
        for (; t + 8 <= len; t += 8) {
            FloatVector e = Simd.exp(FloatVector.fromArray(F, att, t).sub(m));
            e.intoArray(att, t);
            s = s.add(e);
        }
        double sum = Simd.sum(s);
        for (; t < len; t++) {
            float e = (float) Math.exp(att[t] - max);
            att[t] = e;
            sum += e;
        }
        return (float) (1.0 / sum);
    }
}
