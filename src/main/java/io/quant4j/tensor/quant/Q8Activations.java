package io.quant4j.tensor.quant;

import io.quant4j.tensor.GgmlType;

import java.lang.foreign.MemorySegment;

/**
 * Activations quantized to int8 once per matrix-vector product, for the integer dot kernels
 * ({@link IntDotKernels}): llama.cpp's {@code vec_dot_type}, i.e. Q8_0 blocks of 32 for Q4_0/Q8_0 weights and Q8_K
 * blocks of 256 for the k-quants. The values are kept as shorts because the kernels multiply 16 of them per
 * instruction against weights widened to shorts. The block sums (per 16 values, as Q8_K's bsums; derived per 32, and
 * d·Σq per Q8_0 block) fold the weights' offsets and mins in once per block or sub-block instead of once per value. Reused per thread: nothing is allocated once the arrays have grown.
 */
final class Q8Activations {
    short[] q = new short[0];
    /** Scale per block: 32 values (Q8_0 layout, fp16-rounded as llama.cpp stores it) or 256 (Q8_K, float). */
    float[] d = new float[0];
    /** Σ q over each 16 values. */
    int[] s16 = new int[0];
    /** Σ q over each 32 values (pairs of s16), for the Q4_K mins. */
    int[] s32 = new int[0];
    /** d·Σq per Q8_0 block, for the Q4_0 offset of 8. */
    float[] ds = new float[0];
    /** Scratch for a kernel's final accumulator, summed in a fixed order ({@link io.quant4j.tensor.Simd#sumLanes}). */
    final float[] lanes = new float[8];
    int n;

    private void ensure(int n) {
        if (q.length < n) {
            q = new short[n];
            d = new float[n / 32 + 1];
            s16 = new int[n / 16 + 1];
            s32 = new int[n / 32 + 1];
            ds = new float[n / 32 + 1];
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
            ds[b] = d[b] * (s16[2 * b] + s16[2 * b + 1]);
        }
    }

    /** One Q8_K block as the codec writes it; its values are copied out as shorts. */
    private final byte[] q8kBlock = new byte[Q8_K.BLOCK_BYTES];

    /** quantize_row_q8_K_ref, through the Q8_K codec itself ({@link Q8_K#quantizeBlock}): d, values and bsums. */
    void quantizeQ8_K(float[] x, int xo, int n) {
        ensure(n);
        MemorySegment block = MemorySegment.ofArray(q8kBlock);
        for (int b = 0; b < n / 256; b++) {
            Q8_K.quantizeBlock(x, xo + 256 * b, q8kBlock);
            d[b] = block.get(Bits.F32, Q8_K.OFF_D);
            for (int j = 0; j < 256; j++) {
                q[256 * b + j] = q8kBlock[Q8_K.OFF_QS + j];
            }
            for (int k = 0; k < 16; k++) {
                s16[16 * b + k] = block.get(Bits.I16, Q8_K.OFF_BSUMS + 2L * k);
            }
            for (int k = 0; k < 8; k++) {
                s32[8 * b + k] = s16[16 * b + 2 * k] + s16[16 * b + 2 * k + 1];
            }
        }
    }
}
