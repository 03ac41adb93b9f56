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

    /** Right-looking blocked Cholesky on the lower triangle of a (row-major); the upper triangle is ignored. */
    static void choleskyInPlace(double[] a, int n) throws NotPositiveDefinite {
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
            int below = n - k1;
            if (below == 0) {
                break;
            }
            // Panel: rows below solve against the diagonal block.
            Parallel.forRange(below, (long) BLOCK * BLOCK, (from, to) -> {
                for (int i = kb1 + from; i < kb1 + to; i++) {
                    for (int j = kb0; j < kb1; j++) {
                        double s = a[i * n + j] - dot(a, i * n + kb0, j * n + kb0, j - kb0);
                        a[i * n + j] = s / a[j * n + j];
                    }
                }
            });
            // Trailing update of the lower triangle: A[i, j] -= L[i, k0:k1] · L[j, k0:k1].
            Parallel.forRange(below, (long) below * (kb1 - kb0) / 2, (from, to) -> {
                for (int i = kb1 + from; i < kb1 + to; i++) {
                    for (int j = kb1; j <= i; j++) {
                        a[i * n + j] -= dot(a, i * n + kb0, j * n + kb0, kb1 - kb0);
                    }
                }
            });
        }
    }

    /** L⁻¹ of a lower-triangular L: each column solved independently (L·x = e_j), columns split across the pool. */
    static double[] lowerInverse(double[] l, int n) {
        double[] inv = new double[n * n];
        Parallel.forRange(n, (long) n * n / 4, (from, to) -> {
            double[] x = new double[n];
            for (int j = from; j < to; j++) {
                x[j] = 1.0 / l[j * n + j];
                for (int i = j + 1; i < n; i++) {
                    double s = 0;
                    int row = i * n;
                    int m = j;
                    int upper = j + S.loopBound(i - j);
                    DoubleVector acc = DoubleVector.zero(S);
                    for (; m < upper; m += S.length()) {
                        acc = DoubleVector.fromArray(S, l, row + m).fma(DoubleVector.fromArray(S, x, m), acc);
                    }
                    s = acc.reduceLanes(VectorOperators.ADD);
                    for (; m < i; m++) {
                        s += l[row + m] * x[m];
                    }
                    x[i] = -s / l[row + i];
                }
                for (int i = j; i < n; i++) {
                    inv[i * n + j] = x[i];
                }
            }
        });
        return inv;
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
