package io.quant4j.quantize.gptq;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

/** The blocked Cholesky and triangular inverse against plain textbook loops, on random SPD matrices. */
class TriangularKernelsTest {

    /** A random SPD matrix M·Mᵀ + n·I (row-major). */
    static double[] spd(Random rnd, int n) {
        double[] m = new double[n * n];
        for (int i = 0; i < m.length; i++) {
            m[i] = rnd.nextGaussian();
        }
        double[] a = new double[n * n];
        for (int i = 0; i < n; i++) {
            for (int j = 0; j <= i; j++) {
                double s = 0;
                for (int k = 0; k < n; k++) {
                    s += m[i * n + k] * m[j * n + k];
                }
                a[i * n + j] = s + (i == j ? n : 0);
                a[j * n + i] = a[i * n + j];
            }
        }
        return a;
    }

    /** Unblocked textbook Cholesky (lower), the reference. */
    static double[] choleskyReference(double[] a, int n) {
        double[] l = new double[n * n];
        for (int j = 0; j < n; j++) {
            double d = a[j * n + j];
            for (int k = 0; k < j; k++) {
                d -= l[j * n + k] * l[j * n + k];
            }
            l[j * n + j] = Math.sqrt(d);
            for (int i = j + 1; i < n; i++) {
                double s = a[i * n + j];
                for (int k = 0; k < j; k++) {
                    s -= l[i * n + k] * l[j * n + k];
                }
                l[i * n + j] = s / l[j * n + j];
            }
        }
        return l;
    }

    // Sizes around the 64-wide panels and the 4×8 tiles: partial tiles, partial panels, a single panel.
    @ParameterizedTest
    @ValueSource(ints = {1, 5, 8, 63, 64, 65, 131, 200, 257})
    void blockedCholeskyMatchesTheTextbook(int n) throws Exception {
        double[] a = spd(new Random(n), n);
        double[] expected = choleskyReference(a, n);
        double[] got = a.clone();
        InverseCholesky.choleskyInPlace(got, n);
        for (int i = 0; i < n; i++) {
            for (int j = 0; j <= i; j++) {
                assertThat(got[i * n + j]).as("L[%d,%d]", i, j).isCloseTo(expected[i * n + j], within(1e-9 * Math.sqrt(n)));
            }
        }
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 7, 8, 9, 16, 67, 200})
    void blockedInverseMatchesColumnByColumnSubstitution(int n) throws Exception {
        double[] l = spd(new Random(100 + n), n);
        InverseCholesky.choleskyInPlace(l, n);
        double[] inv = InverseCholesky.lowerInverse(l, n);
        double[] x = new double[n];
        for (int j = 0; j < n; j++) {
            TriangularKernels.lowerInverseColumnReference(l, n, j, x);
            for (int i = 0; i < n; i++) {
                double expected = i >= j ? x[i] : 0;
                assertThat(inv[i * n + j]).as("inv[%d,%d]", i, j).isCloseTo(expected, within(1e-12));
            }
        }
    }

    @ParameterizedTest
    @ValueSource(ints = {12, 40})
    void syrkTileMatchesItsReference(int kw) {
        Random rnd = new Random(kw);
        // The tile's columns lie right of the panel's (k0 + kw <= base), as in the factorization.
        int n = 64;
        int base = 40;
        int ld = n - base;
        double[] a = new double[n * n];
        double[] panelT = new double[kw * ld];
        for (int i = 0; i < a.length; i++) {
            a[i] = rnd.nextGaussian();
        }
        for (int i = 0; i < panelT.length; i++) {
            panelT[i] = rnd.nextGaussian();
        }
        // A tile fully below the diagonal and one across it.
        for (int[] tile : new int[][]{{56, 40}, {44, 40}, {40, 48}}) {
            double[] got = a.clone();
            double[] expected = a.clone();
            TriangularKernels.syrkTile(got, n, tile[0], tile[1], 2, kw - 2, panelT, ld, base);
            TriangularKernels.syrkTileReference(expected, n, tile[0], tile[0] + 4, tile[1], tile[1] + 8, 2, kw - 2, panelT, ld, base);
            for (int i = 0; i < a.length; i++) {
                assertThat(got[i]).as("element %d of tile %d,%d", i, tile[0], tile[1]).isCloseTo(expected[i], within(1e-12));
            }
        }
    }
}
