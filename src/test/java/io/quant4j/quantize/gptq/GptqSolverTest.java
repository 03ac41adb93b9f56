package io.quant4j.quantize.gptq;

import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

/** The algebra under GPTQ: inverse Cholesky factor, the product kernel, and GPTQ beating RTN on correlated inputs. */
class GptqSolverTest {

    /** Correlated activations: x = A·z with z standard normal, so H is far from diagonal. */
    static float[] activations(Random rnd, int tokens, int n) {
        double[][] mix = new double[n][n];
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < n; j++) {
                mix[i][j] = rnd.nextGaussian() * (i == j ? 1 : 0.3);
            }
        }
        float[] x = new float[tokens * n];
        double[] z = new double[n];
        for (int t = 0; t < tokens; t++) {
            for (int j = 0; j < n; j++) {
                z[j] = rnd.nextGaussian() * (j % 7 == 0 ? 4 : 1);
            }
            for (int i = 0; i < n; i++) {
                double s = 0;
                for (int j = 0; j < n; j++) {
                    s += mix[i][j] * z[j];
                }
                x[t * n + i] = (float) s;
            }
        }
        return x;
    }

    static float[] weights(Random rnd, int rows, int cols) {
        float[] w = new float[rows * cols];
        for (int i = 0; i < w.length; i++) {
            w[i] = (float) (rnd.nextGaussian() * 0.05);
        }
        return w;
    }

    /** Σ over tokens and outputs of (x·wᵀ − x·qᵀ)². */
    static double outputError(float[] x, int tokens, float[] w, float[] q, int rows, int cols) {
        double e = 0;
        for (int t = 0; t < tokens; t++) {
            for (int r = 0; r < rows; r++) {
                double a = 0;
                double b = 0;
                for (int k = 0; k < cols; k++) {
                    a += x[t * cols + k] * w[r * cols + k];
                    b += x[t * cols + k] * q[r * cols + k];
                }
                e += (a - b) * (a - b);
            }
        }
        return e;
    }

    @Test
    void upperFactorOfTheInverse() throws Exception {
        Random rnd = new Random(1);
        int n = 150;
        float[] x = activations(rnd, 400, n);
        Hessian hs = new Hessian(n);
        hs.add(x, 400);
        double[] h = hs.finish();
        float[] u = InverseCholesky.upperOfInverse(h.clone(), n);
        // Uᵀ·U·H = I
        for (int i = 0; i < n; i += 7) {
            for (int j = 0; j < n; j += 5) {
                double s = 0;
                for (int k = 0; k < n; k++) {
                    double uu = 0;
                    for (int m = 0; m <= Math.min(i, k); m++) {
                        uu += (double) u[m * n + i] * u[m * n + k];
                    }
                    s += uu * h[k * n + j];
                }
                assertThat(s).as("(UᵀUH)[%d,%d]", i, j).isCloseTo(i == j ? 1 : 0, within(1e-2));
            }
            for (int j = 0; j < i; j++) {
                assertThat(u[i * n + j]).isZero();
            }
        }
    }

    @Test
    void gemmMatchesTheDefinition() {
        Random rnd = new Random(2);
        int m = 13;
        int p = 11;
        int n = 1037;
        float[] a = weights(rnd, m, n);
        float[] b = weights(rnd, p, n);
        float[] c = new float[m * p];
        Gemm.abT(a, m, b, p, n, c, p, false, false);
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < p; j++) {
                double s = 0;
                for (int k = 0; k < n; k++) {
                    s += a[i * n + k] * b[j * n + k];
                }
                assertThat((double) c[i * p + j]).isCloseTo(s, within(1e-4));
            }
        }
    }

    @Test
    void gptqBeatsRoundToNearestOnTheLayerOutput() {
        Random rnd = new Random(3);
        int rows = 48;
        int cols = 96;
        int tokens = 600;
        float[] x = activations(rnd, tokens, cols);
        float[] w = weights(rnd, rows, cols);
        for (int bits : new int[] {2, 3, 4, 8}) {
            for (boolean actOrder : new boolean[] {false, true}) {
                GptqOptions o = GptqOptions.gptq(bits, 32).withActOrder(actOrder);
                Hessian hs = new Hessian(cols);
                hs.add(x, tokens);
                QuantizedLinear g = GptqSolver.gptq(w.clone(), rows, cols, hs.finish(), o).layer();
                QuantizedLinear r = GptqSolver.rtn(w, rows, cols, o);
                double eg = outputError(x, tokens, w, g.dequantize(), rows, cols);
                double er = outputError(x, tokens, w, r.dequantize(), rows, cols);
                assertThat(eg).as("%d bits, act-order %s: GPTQ %.4g vs RTN %.4g", bits, actOrder, eg, er).isLessThan(er * 0.9);
            }
        }
    }

    @Test
    void codesStayOnTheGridAndGroupsFollowActOrder() {
        Random rnd = new Random(4);
        int rows = 8;
        int cols = 64;
        float[] x = activations(rnd, 200, cols);
        float[] w = weights(rnd, rows, cols);
        Hessian hs = new Hessian(cols);
        hs.add(x, 200);
        double[] h = hs.finish();
        GptqOptions o = GptqOptions.gptq(3, 16).withActOrder(true);
        QuantizedLinear q = GptqSolver.gptq(w.clone(), rows, cols, h.clone(), o).layer();
        int[] perm = GptqSolver.byDecreasingDiagonal(h, cols);
        for (int c = 0; c < cols; c++) {
            assertThat(q.gIdx()[perm[c]]).isEqualTo(c / 16);
            for (int r = 0; r < rows; r++) {
                assertThat(q.code(r, c)).isBetween(0, 7);
            }
        }
        // static groups keep g_idx = k / group size
        QuantizedLinear s = GptqSolver.gptq(w.clone(), rows, cols, h.clone(), o.withStaticGroups(true)).layer();
        for (int c = 0; c < cols; c++) {
            assertThat(s.gIdx()[c]).isEqualTo(c / 16);
        }
        for (int r = 0; r < rows; r++) {
            assertThat(q.zero(0, r)).isEqualTo(4);
        }
    }

    @Test
    void deadInputsGetZeroWeights() {
        Random rnd = new Random(5);
        int rows = 4;
        int cols = 32;
        float[] x = activations(rnd, 100, cols);
        for (int t = 0; t < 100; t++) {
            x[t * cols + 5] = 0f;
        }
        float[] w = weights(rnd, rows, cols);
        Hessian hs = new Hessian(cols);
        hs.add(x, 100);
        QuantizedLinear q = GptqSolver.gptq(w, rows, cols, hs.finish(), GptqOptions.gptq(4, -1)).layer();
        for (int r = 0; r < rows; r++) {
            assertThat(q.value(r, 5)).isZero();
        }
    }
}
