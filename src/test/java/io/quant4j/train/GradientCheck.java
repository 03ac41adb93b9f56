package io.quant4j.train;

import java.util.function.DoubleSupplier;

import static org.assertj.core.api.Assertions.assertThat;

/** Central finite differences in double precision against an analytical gradient. */
final class GradientCheck {
    static final double STEP = 1e-5;

    private GradientCheck() {
    }

    /**
     * Checks ∂f/∂values[i] against {@code analytic[i]} for every i, perturbing values in place (restored after).
     */
    static void check(String what, double[] values, double[] analytic, DoubleSupplier f) {
        assertThat(analytic).as(what + " gradient length").hasSize(values.length);
        for (int i = 0; i < values.length; i++) {
            double saved = values[i];
            values[i] = saved + STEP;
            double plus = f.getAsDouble();
            values[i] = saved - STEP;
            double minus = f.getAsDouble();
            values[i] = saved;
            double numeric = (plus - minus) / (2 * STEP);
            double tolerance = 1e-6 + 1e-5 * Math.max(Math.abs(numeric), Math.abs(analytic[i]));
            if (Math.abs(numeric - analytic[i]) > tolerance) {
                throw new AssertionError(what + "[" + i + "]: analytic " + analytic[i] + " vs numeric " + numeric);
            }
        }
    }

    /** Σ c ⊙ y: a scalar whose gradient with respect to y is c. */
    static double project(double[] c, double[] y) {
        double s = 0;
        for (int i = 0; i < c.length; i++) {
            s += c[i] * y[i];
        }
        return s;
    }
}
