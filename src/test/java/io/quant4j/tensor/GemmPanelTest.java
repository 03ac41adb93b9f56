package io.quant4j.tensor;

import org.junit.jupiter.api.Test;

import java.util.SplittableRandom;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

/** The vector panel product against its scalar reference, on every panel shape the loops split into. */
class GemmPanelTest {
    @Test
    void panelMatchesScalarReference() {
        SplittableRandom r = new SplittableRandom(41);
        for (int trial = 0; trial < 300; trial++) {
            int nr = 1 + r.nextInt(Gemm.MR);
            int kc = 1 + r.nextInt(Gemm.KC);
            int k0 = 8 * r.nextInt(4);
            int n = 1 + r.nextInt(7);
            int xStride = k0 + kc + r.nextInt(5);
            int outStride = nr + r.nextInt(3);
            boolean accumulate = r.nextBoolean();
            float[] panel = random(r, Gemm.MR * Gemm.KC);
            float[] x = random(r, n * xStride);
            float[] start = random(r, n * outStride);
            float[] vector = start.clone();
            float[] scalar = start.clone();
            Gemm.panel(panel, nr, kc, x, xStride, k0, n, vector, outStride, 0, accumulate);
            Gemm.panelScalar(panel, nr, kc, x, xStride, k0, n, scalar, outStride, 0, accumulate);
            for (int i = 0; i < scalar.length; i++) {
                assertThat(vector[i]).as("trial %d (nr %d, kc %d, n %d) at %d", trial, nr, kc, n, i)
                        .isCloseTo(scalar[i], within(1e-4f * (float) Math.sqrt(kc) + 1e-5f));
            }
        }
    }

    private static float[] random(SplittableRandom r, int n) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) {
            a[i] = (float) (r.nextDouble() * 2 - 1);
        }
        return a;
    }
}
