package io.quant4j.quantize.gptq;

import io.quant4j.tensor.Parallel;
import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * GPTQ's {@code Hinv = cholesky(cholesky_inverse(cholesky(H)), upper=True)}: the upper-triangular U with
 * H⁻¹ = Uᵀ·U, computed without forming H⁻¹. Reverse the order of rows and columns (J·H·J, J the reversal), take its
 * lower Cholesky factor L; then H = V·Vᵀ with V = J·L·J upper triangular, so H⁻¹ = (V⁻¹)ᵀ·V⁻¹ and U = V⁻¹ = J·L⁻¹·J.
 * One factorization and one triangular inverse (2/3 of the three-step recipe's work), in double precision.
 */
final class InverseCholesky {
    private static final VectorSpecies<Double> S = DoubleVector.SPECIES_PREFERRED;
    private static final int BLOCK = 64;

    private InverseCholesky() {
    }

    /** Thrown when the (dampened) Hessian is not positive definite. */
    static final class NotPositiveDefinite extends Exception {
        NotPositiveDefinite(int column) {
            super("the Hessian is not positive definite (pivot " + column + ")");
        }
    }

    /**
     * U as floats (row-major n×n, zero below the diagonal) from the symmetric matrix h (row-major; consumed). J·H·J of a
     * row-major matrix is its flat array reversed, so the reordering is done in place.
     */
    static float[] upperOfInverse(double[] h, int n) throws NotPositiveDefinite {
        reverse(h);
        choleskyInPlace(h, n);
        double[] inv = lowerInverse(h, n);
        reverse(inv);
        float[] u = new float[n * n];
        for (int i = 0; i < n; i++) {
            for (int j = i; j < n; j++) {
                u[i * n + j] = (float) inv[i * n + j];
            }
        }
        return u;
    }

    private static void reverse(double[] a) {
        for (int i = 0, j = a.length - 1; i < j; i++, j--) {
            double t = a[i];
            a[i] = a[j];
            a[j] = t;
        }
    }

    /**
     * Right-looking blocked Cholesky on the lower triangle of a (row-major); the upper triangle is ignored. The
     * trailing update (n³/3 of the n³/3 + small work) runs on {@link TriangularKernels#syrkTile} over a transposed copy
     * of the panel; row tiles are paired first with last so that the two halves of the triangle balance.
     */
    static void choleskyInPlace(double[] a, int n) throws NotPositiveDefinite {
        double[] panelT = new double[BLOCK * Math.max(0, n - BLOCK)];
        for (int k0 = 0; k0 < n; k0 += BLOCK) {
            int k1 = Math.min(n, k0 + BLOCK);
            // Diagonal block, unblocked (its columns < k0 were already subtracted by the trailing updates).
            for (int i = k0; i < k1; i++) {
                for (int j = k0; j <= i; j++) {
                    double s = a[i * n + j] - dot(a, i * n + k0, j * n + k0, j - k0);
                    if (i == j) {
                        if (!(s > 0) || !Double.isFinite(s)) {
                            throw new NotPositiveDefinite(i);
                        }
                        a[i * n + i] = Math.sqrt(s);
                    } else {
                        a[i * n + j] = s / a[j * n + j];
                    }
                }
            }
            final int kb0 = k0;
            final int kb1 = k1;
            final int kw = k1 - k0;
            final int below = n - k1;
            if (below == 0) {
                break;
            }
            // Panel: rows below solve against the diagonal block; each also lands in the transposed copy.
            Parallel.forRange(below, (long) BLOCK * BLOCK, (from, to) -> {
                for (int i = kb1 + from; i < kb1 + to; i++) {
                    for (int j = kb0; j < kb1; j++) {
                        double s = a[i * n + j] - dot(a, i * n + kb0, j * n + kb0, j - kb0);
                        a[i * n + j] = s / a[j * n + j];
                        panelT[(j - kb0) * below + i - kb1] = a[i * n + j];
                    }
                }
            });
            // Trailing update of the lower triangle: A[i, j] -= L[i, k0:k1] · L[j, k0:k1] for k1 <= j <= i.
            int tiles = Math.ceilDiv(below, TriangularKernels.ROWS);
            int pairs = Math.ceilDiv(tiles, 2);
            Parallel.forRange(pairs, (long) below * kw * TriangularKernels.ROWS, (from, to) -> {
                for (int p = from; p < to; p++) {
                    trailingRows(a, n, kb1 + p * TriangularKernels.ROWS, kb0, kw, panelT, below);
                    int q = tiles - 1 - p;
                    if (q != p) {
                        trailingRows(a, n, kb1 + q * TriangularKernels.ROWS, kb0, kw, panelT, below);
                    }
                }
            });
        }
    }

    /** The trailing update of rows [i0, i0+4) (clipped to n), every column up to the diagonal. */
    private static void trailingRows(double[] a, int n, int i0, int k0, int kw, double[] panelT, int below) {
        int base = n - below;
        int i1 = Math.min(n, i0 + TriangularKernels.ROWS);
        int j = base;
        if (i1 - i0 == TriangularKernels.ROWS) {
            for (; j < i1 && j + TriangularKernels.COLS <= n; j += TriangularKernels.COLS) {
                TriangularKernels.syrkTile(a, n, i0, j, k0, kw, panelT, below, base);
            }
        }
        if (j < i1) {
            TriangularKernels.syrkTileReference(a, n, i0, i1, j, i1, k0, kw, panelT, below, base);
        }
    }

    /**
     * L⁻¹ of a lower-triangular L, {@link TriangularKernels#COLS} columns at a time ({@link TriangularKernels#lowerInverseColumns}); column blocks
     * are independent, paired first with last (their work falls with j) and split across the pool.
     */
    static double[] lowerInverse(double[] l, int n) {
        double[] inv = new double[n * n];
        int cols = TriangularKernels.COLS;
        int blocks = Math.ceilDiv(n, cols);
        int pairs = Math.ceilDiv(blocks, 2);
        Parallel.forRange(pairs, (long) n * n * cols / 2, (from, to) -> {
            double[] x = new double[n * cols];
            for (int p = from; p < to; p++) {
                inverseColumns(l, n, p * cols, inv, x);
                int q = blocks - 1 - p;
                if (q != p) {
                    inverseColumns(l, n, q * cols, inv, x);
                }
            }
        });
        return inv;
    }

    private static void inverseColumns(double[] l, int n, int j0, double[] inv, double[] x) {
        int cols = TriangularKernels.COLS;
        if (j0 + cols <= n) {
            TriangularKernels.lowerInverseColumns(l, n, j0, x);
            for (int i = j0; i < n; i++) {
                System.arraycopy(x, (i - j0) * cols, inv, i * n + j0, Math.min(cols, i - j0 + 1));
            }
            return;
        }
        for (int j = j0; j < n; j++) {
            TriangularKernels.lowerInverseColumnReference(l, n, j, x);
            for (int i = j; i < n; i++) {
                inv[i * n + j] = x[i];
            }
        }
    }

    private static double dot(double[] a, int x, int y, int len) {
        DoubleVector acc = DoubleVector.zero(S);
        int m = 0;
        int upper = S.loopBound(len);
        for (; m < upper; m += S.length()) {
            acc = DoubleVector.fromArray(S, a, x + m).fma(DoubleVector.fromArray(S, a, y + m), acc);
        }
        double s = acc.reduceLanes(VectorOperators.ADD);
        for (; m < len; m++) {
            s += a[x + m] * a[y + m];
        }
        return s;
    }
}
