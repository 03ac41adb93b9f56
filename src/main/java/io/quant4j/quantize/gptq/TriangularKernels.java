package io.quant4j.quantize.gptq;

import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * The two double-precision kernels under {@link InverseCholesky}, each beside its scalar reference.
 *
 * <p>Both are register tiles of 4 rows × {@link #COLS} columns (8 with AVX2): a row element is broadcast, COLS
 * consecutive values of the other operand are loaded as two vectors, and 8 vector fused multiply-adds accumulate —
 * 6 loads per 8 FMAs, where a dot product per element (what these replace) reloads both operands for every FMA and,
 * column by column, streamed the whole triangle through the cache once per column (29 % of a TinyLlama layer's
 * profile went there, 16 % more to the dot-product trailing update).
 */
final class TriangularKernels {
    private static final VectorSpecies<Double> S = DoubleVector.SPECIES_PREFERRED;
    /** Columns per tile: two vectors of S (8 doubles with AVX2). */
    static final int COLS = 2 * S.length();
    /** Rows per tile. */
    static final int ROWS = 4;

    private TriangularKernels() {
    }

    /**
     * Cholesky's trailing update of rows [i0, i0+4) of the lower triangle of {@code a} (row-major n×n), columns
     * [j0, j0+COLS) clipped to j ≤ i: a[i, j] −= Σ_{k<kw} a[i, k0+k] · panelT[k·ld + j − base]. {@code panelT} is the
     * panel L[base:, k0:k0+kw] transposed (k-major, leading dimension ld), so j's values are contiguous. Needs
     * i0 + 4 ≤ n and j0 + COLS − base ≤ ld.
     */
    static void syrkTile(double[] a, int n, int i0, int j0, int k0, int kw, double[] panelT, int ld, int base) {
        int len = S.length();
        int r0 = i0 * n + k0;
        int r1 = r0 + n;
        int r2 = r1 + n;
        int r3 = r2 + n;
        int b = j0 - base;
        DoubleVector c00 = DoubleVector.zero(S), c01 = DoubleVector.zero(S);
        DoubleVector c10 = DoubleVector.zero(S), c11 = DoubleVector.zero(S);
        DoubleVector c20 = DoubleVector.zero(S), c21 = DoubleVector.zero(S);
        DoubleVector c30 = DoubleVector.zero(S), c31 = DoubleVector.zero(S);
        for (int k = 0; k < kw; k++, b += ld) {
            DoubleVector x0 = DoubleVector.fromArray(S, panelT, b);
            DoubleVector x1 = DoubleVector.fromArray(S, panelT, b + len);
            DoubleVector y = DoubleVector.broadcast(S, a[r0 + k]);
            c00 = y.fma(x0, c00);
            c01 = y.fma(x1, c01);
            y = DoubleVector.broadcast(S, a[r1 + k]);
            c10 = y.fma(x0, c10);
            c11 = y.fma(x1, c11);
            y = DoubleVector.broadcast(S, a[r2 + k]);
            c20 = y.fma(x0, c20);
            c21 = y.fma(x1, c21);
            y = DoubleVector.broadcast(S, a[r3 + k]);
            c30 = y.fma(x0, c30);
            c31 = y.fma(x1, c31);
        }
        subtractLower(a, n, i0, j0, c00, c01);
        subtractLower(a, n, i0 + 1, j0, c10, c11);
        subtractLower(a, n, i0 + 2, j0, c20, c21);
        subtractLower(a, n, i0 + 3, j0, c30, c31);
    }

    /** a[i, j0+c] −= acc[c] for the c with j0 + c ≤ i. */
    private static void subtractLower(double[] a, int n, int i, int j0, DoubleVector lo, DoubleVector hi) {
        int off = i * n + j0;
        if (j0 + COLS - 1 <= i) {
            DoubleVector.fromArray(S, a, off).sub(lo).intoArray(a, off);
            DoubleVector.fromArray(S, a, off + S.length()).sub(hi).intoArray(a, off + S.length());
            return;
        }
        for (int c = 0; c < COLS && j0 + c <= i; c++) {
            a[off + c] -= c < S.length() ? lo.lane(c) : hi.lane(c - S.length());
        }
    }

    /** Scalar reference of {@link #syrkTile}, for any tile shape: rows [i0, i1), columns [j0, j1), j ≤ i. */
    static void syrkTileReference(double[] a, int n, int i0, int i1, int j0, int j1, int k0, int kw, double[] panelT, int ld, int base) {
        for (int i = i0; i < i1; i++) {
            for (int j = j0; j < j1 && j <= i; j++) {
                double s = 0;
                for (int k = 0; k < kw; k++) {
                    s += a[i * n + k0 + k] * panelT[k * ld + j - base];
                }
                a[i * n + j] -= s;
            }
        }
    }

    /**
     * Multi-right-hand-side forward substitution for {@link #COLS} columns of L⁻¹ (L lower-triangular, row-major n×n):
     * x[(i − j0)·8 + c] = column j0 + c of L⁻¹ at row i, for rows j0 ≤ i < n (entries above the diagonal come out 0).
     * Rows go in groups of 4: their sums over the rows solved before the group form one register tile, and the
     * dependencies inside the group are resolved in scalar. Needs j0 + COLS ≤ n.
     */
    static void lowerInverseColumns(double[] l, int n, int j0, double[] x) {
        double[] s = new double[ROWS * COLS];
        int len = S.length();
        for (int i0 = j0; i0 < n; i0 += ROWS) {
            int rows = Math.min(ROWS, n - i0);
            if (rows == ROWS) {
                int r0 = i0 * n;
                int r1 = r0 + n;
                int r2 = r1 + n;
                int r3 = r2 + n;
                DoubleVector c00 = DoubleVector.zero(S), c01 = DoubleVector.zero(S);
                DoubleVector c10 = DoubleVector.zero(S), c11 = DoubleVector.zero(S);
                DoubleVector c20 = DoubleVector.zero(S), c21 = DoubleVector.zero(S);
                DoubleVector c30 = DoubleVector.zero(S), c31 = DoubleVector.zero(S);
                for (int m = j0, b = 0; m < i0; m++, b += COLS) {
                    DoubleVector x0 = DoubleVector.fromArray(S, x, b);
                    DoubleVector x1 = DoubleVector.fromArray(S, x, b + len);
                    DoubleVector y = DoubleVector.broadcast(S, l[r0 + m]);
                    c00 = y.fma(x0, c00);
                    c01 = y.fma(x1, c01);
                    y = DoubleVector.broadcast(S, l[r1 + m]);
                    c10 = y.fma(x0, c10);
                    c11 = y.fma(x1, c11);
                    y = DoubleVector.broadcast(S, l[r2 + m]);
                    c20 = y.fma(x0, c20);
                    c21 = y.fma(x1, c21);
                    y = DoubleVector.broadcast(S, l[r3 + m]);
                    c30 = y.fma(x0, c30);
                    c31 = y.fma(x1, c31);
                }
                c00.intoArray(s, 0);
                c01.intoArray(s, len);
                c10.intoArray(s, COLS);
                c11.intoArray(s, COLS + len);
                c20.intoArray(s, 2 * COLS);
                c21.intoArray(s, 2 * COLS + len);
                c30.intoArray(s, 3 * COLS);
                c31.intoArray(s, 3 * COLS + len);
            } else {
                for (int r = 0; r < rows; r++) {
                    for (int c = 0; c < COLS; c++) {
                        double t = 0;
                        for (int m = j0; m < i0; m++) {
                            t += l[(i0 + r) * n + m] * x[(m - j0) * COLS + c];
                        }
                        s[r * COLS + c] = t;
                    }
                }
            }
            for (int r = 0; r < rows; r++) {
                int i = i0 + r;
                double diag = l[i * n + i];
                for (int c = 0; c < COLS; c++) {
                    double t = s[r * COLS + c];
                    for (int m = i0; m < i; m++) {
                        t += l[i * n + m] * x[(m - j0) * COLS + c];
                    }
                    x[(i - j0) * COLS + c] = ((i == j0 + c ? 1.0 : 0.0) - t) / diag;
                }
            }
        }
    }

    /** Scalar reference: column j of L⁻¹ by forward substitution, into x[i] for i ≥ j. */
    static void lowerInverseColumnReference(double[] l, int n, int j, double[] x) {
        x[j] = 1.0 / l[j * n + j];
        for (int i = j + 1; i < n; i++) {
            double s = 0;
            for (int m = j; m < i; m++) {
                s += l[i * n + m] * x[m];
            }
            x[i] = -s / l[i * n + i];
        }
    }
}
