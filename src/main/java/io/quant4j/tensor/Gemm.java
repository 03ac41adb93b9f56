package io.quant4j.tensor;

import jdk.incubator.vector.FloatVector;

import static io.quant4j.tensor.Simd.F;

/**
 * The batched (prompt) matrix product out[t][r] = W[r,:]·x[t] for many tokens t. Weights are read once per batch:
 * a task takes row panels of {@link #MR} rows, dequantizes {@link #KC} columns of a panel into floats (any type,
 * once per batch) and multiplies them with every token's slice of x, so a column chunk of x (KC floats per token)
 * stays in cache across all panels. The micro-kernel holds 4 rows × 2 tokens of accumulators in registers: each
 * weight vector loaded is used twice, each x vector four times.
 */
public final class Gemm {
    /** Rows per panel. */
    public static final int MR = 4;
    /** Columns dequantized at a time (a multiple of every block size). */
    public static final int KC = 512;

    private static final ThreadLocal<float[]> PANEL = ThreadLocal.withInitial(() -> new float[MR * KC]);
    private static final ThreadLocal<float[]> ACC = ThreadLocal.withInitial(() -> new float[16 * MR]);

    private Gemm() {
    }

    /** out[t·outStride + r] = W[r,:]·x[t·cols ..] for rows [from, to) and tokens [0, n). */
    static void matMul(WeightMatrix w, float[] x, int n, float[] out, int outStride, int from, int to) {
        int cols = w.cols();
        float[] panel = PANEL.get();
        for (int k0 = 0; k0 < cols; k0 += KC) {
            int kc = Math.min(KC, cols - k0);
            for (int r0 = from; r0 < to; r0 += MR) {
                int nr = Math.min(MR, to - r0);
                for (int i = 0; i < nr; i++) {
                    w.dequantizeRange(r0 + i, k0, kc, panel, i * KC);
                }
                if (Simd.ENABLED) {
                    panel(panel, nr, kc, x, cols, k0, n, out, outStride, r0, k0 > 0);
                } else {
                    panelScalar(panel, nr, kc, x, cols, k0, n, out, outStride, r0, k0 > 0);
                }
            }
        }
    }

    /** Reference: the same panel product one value at a time. */
    static void panelScalar(float[] panel, int nr, int kc, float[] x, int xStride, int k0, int n, float[] out,
                            int outStride, int r0, boolean accumulate) {
        for (int t = 0; t < n; t++) {
            for (int i = 0; i < nr; i++) {
                float s = 0;
                for (int k = 0; k < kc; k++) {
                    s += panel[i * KC + k] * x[t * xStride + k0 + k];
                }
                int o = t * outStride + r0 + i;
                out[o] = accumulate ? out[o] + s : s;
            }
        }
    }

    static void panel(float[] panel, int nr, int kc, float[] x, int xStride, int k0, int n, float[] out,
                      int outStride, int r0, boolean accumulate) {
        int kv = kc & ~7;
        int t = 0;
        if (nr == MR) {
            for (; t + 2 <= n; t += 2) {
                int xa = t * xStride + k0;
                int xb = xa + xStride;
                FloatVector a0 = FloatVector.zero(F), a1 = FloatVector.zero(F), a2 = FloatVector.zero(F), a3 = FloatVector.zero(F);
                FloatVector b0 = FloatVector.zero(F), b1 = FloatVector.zero(F), b2 = FloatVector.zero(F), b3 = FloatVector.zero(F);
                // Two steps per iteration, written out: C2 would otherwise unroll this loop four times and spill
                // the schedule it makes of that to the stack (about a fifth slower).
                int k = 0;
                for (; k + 16 <= kv; k += 16) {
                    FloatVector xav = FloatVector.fromArray(F, x, xa + k);
                    FloatVector xbv = FloatVector.fromArray(F, x, xb + k);
                    FloatVector w0 = FloatVector.fromArray(F, panel, k);
                    a0 = w0.fma(xav, a0);
                    b0 = w0.fma(xbv, b0);
                    FloatVector w1 = FloatVector.fromArray(F, panel, KC + k);
                    a1 = w1.fma(xav, a1);
                    b1 = w1.fma(xbv, b1);
                    FloatVector w2 = FloatVector.fromArray(F, panel, 2 * KC + k);
                    a2 = w2.fma(xav, a2);
                    b2 = w2.fma(xbv, b2);
                    FloatVector w3 = FloatVector.fromArray(F, panel, 3 * KC + k);
                    a3 = w3.fma(xav, a3);
                    b3 = w3.fma(xbv, b3);
                    xav = FloatVector.fromArray(F, x, xa + k + 8);
                    xbv = FloatVector.fromArray(F, x, xb + k + 8);
                    w0 = FloatVector.fromArray(F, panel, k + 8);
                    a0 = w0.fma(xav, a0);
                    b0 = w0.fma(xbv, b0);
                    w1 = FloatVector.fromArray(F, panel, KC + k + 8);
                    a1 = w1.fma(xav, a1);
                    b1 = w1.fma(xbv, b1);
                    w2 = FloatVector.fromArray(F, panel, 2 * KC + k + 8);
                    a2 = w2.fma(xav, a2);
                    b2 = w2.fma(xbv, b2);
                    w3 = FloatVector.fromArray(F, panel, 3 * KC + k + 8);
                    a3 = w3.fma(xav, a3);
                    b3 = w3.fma(xbv, b3);
                }
                for (; k < kv; k += 8) {
                    FloatVector xav = FloatVector.fromArray(F, x, xa + k);
                    FloatVector xbv = FloatVector.fromArray(F, x, xb + k);
                    FloatVector w0 = FloatVector.fromArray(F, panel, k);
                    FloatVector w1 = FloatVector.fromArray(F, panel, KC + k);
                    FloatVector w2 = FloatVector.fromArray(F, panel, 2 * KC + k);
                    FloatVector w3 = FloatVector.fromArray(F, panel, 3 * KC + k);
                    a0 = w0.fma(xav, a0);
                    b0 = w0.fma(xbv, b0);
                    a1 = w1.fma(xav, a1);
                    b1 = w1.fma(xbv, b1);
                    a2 = w2.fma(xav, a2);
                    b2 = w2.fma(xbv, b2);
                    a3 = w3.fma(xav, a3);
                    b3 = w3.fma(xbv, b3);
                }
                // Reduced through a scratch array: eight Simd.sum call sites here pass C2's inlining budget for
                // this method, and the accumulators would then be boxed on every panel.
                float[] acc = ACC.get();
                a0.intoArray(acc, 0);
                a1.intoArray(acc, 8);
                a2.intoArray(acc, 16);
                a3.intoArray(acc, 24);
                b0.intoArray(acc, 32);
                b1.intoArray(acc, 40);
                b2.intoArray(acc, 48);
                b3.intoArray(acc, 56);
                for (int i = 0; i < 2 * MR; i++) {
                    int xo = i < MR ? xa : xb;
                    int o = (t + i / MR) * outStride + r0 + i % MR;
                    float s = Simd.sumLanes(acc, 8 * i) + tail(panel, (i % MR) * KC, x, xo, kv, kc);
                    out[o] = accumulate ? out[o] + s : s;
                }
            }
        }
        // Leftover token, or a panel of fewer rows: one row-token dot at a time.
        for (; t < n; t++) {
            int xa = t * xStride + k0;
            for (int i = 0; i < nr; i++) {
                FloatVector a = FloatVector.zero(F);
                for (int k = 0; k < kv; k += 8) {
                    a = FloatVector.fromArray(F, panel, i * KC + k).fma(FloatVector.fromArray(F, x, xa + k), a);
                }
                float s = Simd.sum(a) + tail(panel, i * KC, x, xa, kv, kc);
                int o = t * outStride + r0 + i;
                out[o] = accumulate ? out[o] + s : s;
            }
        }
    }

    private static float tail(float[] panel, int po, float[] x, int xo, int from, int to) {
        float s = 0;
        for (int k = from; k < to; k++) {
            s += panel[po + k] * x[xo + k];
        }
        return s;
    }
}
