package io.quant4j.quantize.gptq;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

/** The packed product kernel against its scalar definitions, on random inputs of awkward sizes. */
class GemmTest {

    static float[] random(Random rnd, int n) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) rnd.nextGaussian();
        }
        return v;
    }

    @Test
    void registerTileMatchesItsReferenceBitForBit() {
        Random rnd = new Random(3);
        int kc = 77;
        float[] aPack = random(rnd, Gemm.KC * Gemm.MR * 2);
        float[] bPack = random(rnd, Gemm.KC * Gemm.NR * 2);
        float[] got = new float[Gemm.MR * Gemm.NR];
        float[] expected = new float[Gemm.MR * Gemm.NR];
        Gemm.kernel(aPack, Gemm.KC * Gemm.MR, bPack, Gemm.KC * Gemm.NR, kc, got);
        Gemm.kernelReference(aPack, Gemm.KC * Gemm.MR, bPack, Gemm.KC * Gemm.NR, kc, expected);
        assertThat(got).isEqualTo(expected);
    }

    // m, p, n: tiles and blocks partial in every direction, inner dimension over several slices.
    @ParameterizedTest
    @CsvSource({"13, 11, 1037", "6, 16, 256", "50, 300, 600", "1, 1, 1", "130, 129, 5"})
    void productMatchesTheDefinition(int m, int p, int n) {
        Random rnd = new Random(m * 1000L + p);
        float[] a = random(rnd, m * n);
        float[] b = random(rnd, p * n);
        int ldc = p + 3;
        float[] expected = new float[m * ldc];
        Gemm.abTReference(a, m, b, p, n, expected, ldc);
        float[] c = random(rnd, m * ldc);
        float[] before = c.clone();
        Gemm.abT(a, m, b, p, n, c, ldc, false, false);
        float[] serial = new float[m * ldc];
        Gemm.abTSerial(a, m, b, p, n, serial, ldc);
        float[] acc = before.clone();
        Gemm.abT(a, m, b, p, n, acc, ldc, true, false);
        double tol = 1e-5 * Math.sqrt(n) * 4;
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < ldc; j++) {
                int o = i * ldc + j;
                if (j >= p) {
                    assertThat(c[o]).as("padding untouched").isEqualTo(before[o]);
                    continue;
                }
                assertThat((double) c[o]).as("c[%d,%d]", i, j).isCloseTo(expected[o], within(tol));
                assertThat(serial[o]).isEqualTo(c[o]);
                assertThat((double) acc[o]).isCloseTo(before[o] + expected[o], within(tol + 1e-5));
            }
        }
    }

    @ParameterizedTest
    @CsvSource({"512, 300", "7, 131", "300, 16", "1, 1"})
    void lowerTriangleOfXtXMatchesTheDefinition(int count, int n) {
        Random rnd = new Random(count + 7L * n);
        float[] x = random(rnd, count * n);
        float[] xt = new float[n * count];
        for (int t = 0; t < count; t++) {
            for (int i = 0; i < n; i++) {
                xt[i * count + t] = x[t * n + i];
            }
        }
        float[] expected = new float[n * n];
        Gemm.abTReference(xt, n, xt, n, count, expected, n);
        float sentinel = 12345f;
        float[] c = new float[n * n];
        java.util.Arrays.fill(c, sentinel);
        Gemm.ataLower(x, count, n, c);
        float[] viaRows = new float[n * n];
        java.util.Arrays.fill(viaRows, sentinel);
        Gemm.abT(xt, n, xt, n, count, viaRows, n, false, true);
        double tol = 1e-5 * Math.sqrt(count) * 4;
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < n; j++) {
                if (j > i) {
                    assertThat(c[i * n + j]).as("upper triangle untouched").isEqualTo(sentinel);
                    assertThat(viaRows[i * n + j]).isEqualTo(sentinel);
                } else {
                    assertThat((double) c[i * n + j]).as("[%d,%d]", i, j).isCloseTo(expected[i * n + j], within(tol));
                    assertThat(viaRows[i * n + j]).isEqualTo(c[i * n + j]);
                }
            }
        }
    }
}
