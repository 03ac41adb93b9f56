package io.quant4j.tensor;

import jdk.incubator.vector.FloatVector;
import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;

class SimdTest {
    @Test
    void expIsWithinTwoUlpsOfMathExp() {
        Random r = new Random(3);
        float[] x = new float[8];
        float[] y = new float[8];
        for (int i = 0; i < 200_000; i++) {
            for (int j = 0; j < 8; j++) {
                x[j] = i < 1000 ? (float) (-87.3 + (87.3 + 88.3) * (i * 8 + j) / 8000.0) : (float) (r.nextGaussian() * (i % 3 == 0 ? 30 : 3));
            }
            Simd.exp(FloatVector.fromArray(Simd.F, x, 0)).intoArray(y, 0);
            for (int j = 0; j < 8; j++) {
                if (x[j] < -87.3f || x[j] > 88.3f) {
                    continue;
                }
                float e = (float) Math.exp(x[j]);
                assertThat(Math.abs(y[j] - e)).as("exp(%s) = %s vs %s", x[j], y[j], e).isLessThanOrEqualTo(2 * Math.ulp(e));
            }
        }
    }

    @Test
    void expClampsAndKeepsNaN() {
        float[] x = {Float.NEGATIVE_INFINITY, -1000f, 0f, 1000f, Float.POSITIVE_INFINITY, Float.NaN, 1f, -1f};
        float[] y = new float[8];
        Simd.exp(FloatVector.fromArray(Simd.F, x, 0)).intoArray(y, 0);
        assertThat(y[0]).isPositive().isLessThan(2e-38f);
        assertThat(y[1]).isPositive().isLessThan(2e-38f);
        assertThat(y[2]).isEqualTo(1f);
        assertThat(y[3]).isGreaterThan(1e38f).isFinite();
        assertThat(y[4]).isGreaterThan(1e38f).isFinite();
        assertThat(y[5]).isNaN();
    }

    @Test
    void sumAddsInAFixedOrder() {
        float[] v = {1e8f, 1f, -1e8f, 1f, 3f, 4f, 5f, 6f};
        // ((v0+v4)+(v2+v6)) + ((v1+v5)+(v3+v7))
        float expected = ((v[0] + v[4]) + (v[2] + v[6])) + ((v[1] + v[5]) + (v[3] + v[7]));
        assertThat(Simd.sum(FloatVector.fromArray(Simd.F, v, 0))).isEqualTo(expected);
    }
}
