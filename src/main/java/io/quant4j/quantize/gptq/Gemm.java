package io.quant4j.quantize.gptq;

import io.quant4j.tensor.Parallel;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * The one dense product calibration needs, C = A·Bᵀ over row-major float matrices (a layer's outputs are
 * X·Wᵀ with W stored [out × in]; a Hessian is Xᵀ·X = (Xᵀ)(Xᵀ)ᵀ). Both operands are walked along contiguous rows.
 * The inner dimension is cut into slices that keep a panel of B in cache while all rows of A pass over it, and
 * a 4×2 tile of dot products shares its loads. Rows of A are split across the pool.
 */
final class Gemm {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final int K_SLICE = 512;
    private static final int B_PANEL = 64;

    private Gemm() {
    }

    /**
     * c[i·ldc + j] (+)= Σ_k a[i·n + k] · b[j·n + k] for i < m, j < p. With {@code lowerOnly}, only j ≤ i is computed
     * (symmetric products; the caller mirrors).
     */
    static void abT(float[] a, int m, float[] b, int p, int n, float[] c, int ldc, boolean accumulate, boolean lowerOnly) {
        if (!accumulate) {
            Parallel.forRange(m, p, (from, to) -> {
                for (int i = from; i < to; i++) {
                    java.util.Arrays.fill(c, i * ldc, i * ldc + (lowerOnly ? i + 1 : p), 0f);
                }
            });
        }
        long work = (long) p * n / (lowerOnly ? 2 : 1);
        // Split rows into chunks of 4 so tiles never straddle two tasks.
        int tiles = Math.ceilDiv(m, 4);
        Parallel.forRange(tiles, Math.max(1, work * 4), (t0, t1) -> {
            int i0 = t0 * 4;
            int i1 = Math.min(m, t1 * 4);
            for (int k0 = 0; k0 < n; k0 += K_SLICE) {
                int k1 = Math.min(n, k0 + K_SLICE);
                for (int j0 = 0; j0 < p; j0 += B_PANEL) {
                    int j1 = Math.min(p, j0 + B_PANEL);
                    if (lowerOnly && j0 >= i1) {
                        break;
                    }
                    block(a, b, c, ldc, n, i0, i1, j0, j1, k0, k1, lowerOnly);
                }
            }
        });
    }

    /** c = a·bᵀ (overwritten) on the calling thread, for callers that already run in parallel. */
    static void abTSerial(float[] a, int m, float[] b, int p, int n, float[] c, int ldc) {
        for (int i = 0; i < m; i++) {
            java.util.Arrays.fill(c, i * ldc, i * ldc + p, 0f);
        }
        for (int k0 = 0; k0 < n; k0 += K_SLICE) {
            int k1 = Math.min(n, k0 + K_SLICE);
            for (int j0 = 0; j0 < p; j0 += B_PANEL) {
                block(a, b, c, ldc, n, 0, m, j0, Math.min(p, j0 + B_PANEL), k0, k1, false);
            }
        }
    }

    private static void block(float[] a, float[] b, float[] c, int ldc, int n, int i0, int i1, int j0, int j1,
                              int k0, int k1, boolean lowerOnly) {
        int i = i0;
        for (; i + 4 <= i1; i += 4) {
            int jEnd = lowerOnly ? Math.min(j1, i + 4) : j1;
            int j = j0;
            for (; j + 2 <= jEnd; j += 2) {
                tile4x2(a, b, c, ldc, n, i, j, k0, k1);
            }
            for (; j < jEnd; j++) {
                for (int ii = i; ii < i + 4; ii++) {
                    c[ii * ldc + j] += dot(a, ii * n, b, j * n, k0, k1);
                }
            }
        }
        for (; i < i1; i++) {
            int jEnd = lowerOnly ? Math.min(j1, i + 1) : j1;
            for (int j = j0; j < jEnd; j++) {
                c[i * ldc + j] += dot(a, i * n, b, j * n, k0, k1);
            }
        }
    }

    private static void tile4x2(float[] a, float[] b, float[] c, int ldc, int n, int i, int j, int k0, int k1) {
        int a0 = i * n;
        int a1 = a0 + n;
        int a2 = a1 + n;
        int a3 = a2 + n;
        int b0 = j * n;
        int b1 = b0 + n;
        FloatVector c00 = FloatVector.zero(S), c01 = FloatVector.zero(S);
        FloatVector c10 = FloatVector.zero(S), c11 = FloatVector.zero(S);
        FloatVector c20 = FloatVector.zero(S), c21 = FloatVector.zero(S);
        FloatVector c30 = FloatVector.zero(S), c31 = FloatVector.zero(S);
        int len = S.length();
        int k = k0;
        int upper = k0 + S.loopBound(k1 - k0);
        for (; k < upper; k += len) {
            FloatVector x0 = FloatVector.fromArray(S, b, b0 + k);
            FloatVector x1 = FloatVector.fromArray(S, b, b1 + k);
            FloatVector y = FloatVector.fromArray(S, a, a0 + k);
            c00 = y.fma(x0, c00);
            c01 = y.fma(x1, c01);
            y = FloatVector.fromArray(S, a, a1 + k);
            c10 = y.fma(x0, c10);
            c11 = y.fma(x1, c11);
            y = FloatVector.fromArray(S, a, a2 + k);
            c20 = y.fma(x0, c20);
            c21 = y.fma(x1, c21);
            y = FloatVector.fromArray(S, a, a3 + k);
            c30 = y.fma(x0, c30);
            c31 = y.fma(x1, c31);
        }
        float s00 = c00.reduceLanes(VectorOperators.ADD), s01 = c01.reduceLanes(VectorOperators.ADD);
        float s10 = c10.reduceLanes(VectorOperators.ADD), s11 = c11.reduceLanes(VectorOperators.ADD);
        float s20 = c20.reduceLanes(VectorOperators.ADD), s21 = c21.reduceLanes(VectorOperators.ADD);
        float s30 = c30.reduceLanes(VectorOperators.ADD), s31 = c31.reduceLanes(VectorOperators.ADD);
        for (; k < k1; k++) {
            float x0 = b[b0 + k];
            float x1 = b[b1 + k];
            s00 += a[a0 + k] * x0;
            s01 += a[a0 + k] * x1;
            s10 += a[a1 + k] * x0;
            s11 += a[a1 + k] * x1;
            s20 += a[a2 + k] * x0;
            s21 += a[a2 + k] * x1;
            s30 += a[a3 + k] * x0;
            s31 += a[a3 + k] * x1;
        }
        int r = i * ldc + j;
        c[r] += s00;
        c[r + 1] += s01;
        r += ldc;
        c[r] += s10;
        c[r + 1] += s11;
        r += ldc;
        c[r] += s20;
        c[r + 1] += s21;
        r += ldc;
        c[r] += s30;
        c[r + 1] += s31;
    }

    static float dot(float[] a, int aOff, float[] b, int bOff, int k0, int k1) {
        FloatVector acc = FloatVector.zero(S);
        int k = k0;
        int upper = k0 + S.loopBound(k1 - k0);
        for (; k < upper; k += S.length()) {
            acc = FloatVector.fromArray(S, a, aOff + k).fma(FloatVector.fromArray(S, b, bOff + k), acc);
        }
        float s = acc.reduceLanes(VectorOperators.ADD);
        for (; k < k1; k++) {
            s += a[aOff + k] * b[bOff + k];
        }
        return s;
    }

    /** y[yOff + j] += alpha · x[xOff + j] for j < len. */
    static void axpy(float alpha, float[] x, int xOff, float[] y, int yOff, int len) {
        FloatVector av = FloatVector.broadcast(S, alpha);
        int j = 0;
        int upper = S.loopBound(len);
        for (; j < upper; j += S.length()) {
            FloatVector.fromArray(S, x, xOff + j).fma(av, FloatVector.fromArray(S, y, yOff + j)).intoArray(y, yOff + j);
        }
        for (; j < len; j++) {
            y[yOff + j] += alpha * x[xOff + j];
        }
    }
}
