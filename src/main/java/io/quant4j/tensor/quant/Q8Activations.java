package io.quant4j.tensor.quant;

import io.quant4j.tensor.GgmlType;

/**
 * Activations quantized to int8 once per matrix-vector product, for the integer dot kernels
 * ({@link IntDotKernels}): llama.cpp's {@code vec_dot_type}, i.e. Q8_0 blocks of 32 for Q4_0/Q8_0 weights and Q8_K
 * blocks of 256 for the k-quants. The values are kept as shorts because the kernels multiply 16 of them per
 * instruction against weights widened to shorts; the per-16 sums fold the weights' offsets and mins in once per
 * sub-block instead of once per value. Reused per thread: nothing is allocated once the arrays have grown.
 */
final class Q8Activations {
    short[] q = new short[0];
    /** Scale per block: 32 values (Q8_0 layout, fp16-rounded as llama.cpp stores it) or 256 (Q8_K, float). */
    float[] d = new float[0];
    /** Σ q over each 16 values. */
    int[] s16 = new int[0];
    int n;

    private void ensure(int n) {
        if (q.length < n) {
            q = new short[n];
            d = new float[n / 32 + 1];
            s16 = new int[n / 16 + 1];
        }
        this.n = n;
    }

    /** The activation layout llama.cpp pairs with this weight type's dot product. */
    static GgmlType layoutFor(GgmlType weights) {
        return switch (weights) {
            case Q4_0, Q8_0 -> GgmlType.Q8_0;
            case Q4_K, Q6_K -> GgmlType.Q8_K;
            default -> null;
        };
    }

    void quantize(GgmlType layout, float[] x, int xo, int n) {
        if (layout == GgmlType.Q8_0) {
            quantizeQ8_0(x, xo, n);
        } else {
            quantizeQ8_K(x, xo, n);
        }
    }

    /**
     * ggml-cpu's quantize_row_q8_0 (the AVX2 path the dot products use): d = amax/127 stored as fp16, values
     * rint(x·127/amax) (round half to even, as _mm256_round_ps with _MM_ROUND_NEAREST).
     */
    void quantizeQ8_0(float[] x, int xo, int n) {
        ensure(n);
        for (int b = 0; b < n / 32; b++) {
            int o = xo + 32 * b;
            float amax = 0;
            for (int j = 0; j < 32; j++) {
                amax = Math.max(amax, Math.abs(x[o + j]));
            }
            float id = amax != 0 ? 127f / amax : 0f;
            d[b] = Float.float16ToFloat(Float.floatToFloat16(amax / 127f));
            for (int h = 0; h < 2; h++) {
                int sum = 0;
                for (int j = 16 * h; j < 16 * h + 16; j++) {
                    int v = (int) Math.rint(x[o + j] * id);
                    q[32 * b + j] = (short) v;
                    sum += v;
                }
                s16[2 * b + h] = sum;
            }
        }
    }

    /** quantize_row_q8_K_ref: iscale = −127/max with max the signed value of largest magnitude, ggml's nearest_int. */
    void quantizeQ8_K(float[] x, int xo, int n) {
        ensure(n);
        for (int b = 0; b < n / 256; b++) {
            int o = xo + 256 * b;
            float max = 0;
            float amax = 0;
            for (int j = 0; j < 256; j++) {
                float ax = Math.abs(x[o + j]);
                if (ax > amax) {
                    amax = ax;
                    max = x[o + j];
                }
            }
            if (amax == 0) {
                d[b] = 0;
                java.util.Arrays.fill(q, 256 * b, 256 * b + 256, (short) 0);
                java.util.Arrays.fill(s16, 16 * b, 16 * b + 16, 0);
                continue;
            }
            float iscale = -127f / max;
            d[b] = 1 / iscale;
            for (int k = 0; k < 16; k++) {
                int sum = 0;
                for (int j = 16 * k; j < 16 * k + 16; j++) {
                    int v = Math.min(127, Bits.nearestInt(iscale * x[o + j]));
                    q[256 * b + j] = (short) v;
                    sum += v;
                }
                s16[16 * b + k] = sum;
            }
        }
    }
}
