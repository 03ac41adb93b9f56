package io.quant4j.train;

import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * Double-array kernels of the training engine, each beside its scalar reference. Training runs in double so
 * that its gradients can be checked against finite differences to many digits; frozen weights are widened
 * from their stored type one row at a time.
 */
public final class DoubleKernels {
    private static final VectorSpecies<Double> S = DoubleVector.SPECIES_PREFERRED;
    /** Below this length (e.g. attention over 8-wide heads) the scalar loop beats the vector set-up and lane reduction. */
    private static final int SHORT = 16;

    private DoubleKernels() {
    }

    public static double dotScalar(double[] a, int aOff, double[] b, int bOff, int n) {
        double sum = 0;
        for (int i = 0; i < n; i++) {
            sum += a[aOff + i] * b[bOff + i];
        }
        return sum;
    }

    public static double dot(double[] a, int aOff, double[] b, int bOff, int n) {
        if (n < SHORT) {
            return dotScalar(a, aOff, b, bOff, n);
        }
        DoubleVector acc = DoubleVector.zero(S);
        int i = 0;
        int upper = S.loopBound(n);
        for (; i < upper; i += S.length()) {
            acc = DoubleVector.fromArray(S, a, aOff + i).fma(DoubleVector.fromArray(S, b, bOff + i), acc);
        }
        double sum = sumLanesInOrder(acc);
        for (; i < n; i++) {
            sum += a[aOff + i] * b[bOff + i];
        }
        return sum;
    }

    /**
     * The lanes added first to last. reduceLanes(ADD) leaves the order open, and the interpreted and compiled forms
     * of it differ, which would make training runs differ in the last bits depending on JIT timing.
     */
    private static double sumLanesInOrder(DoubleVector v) {
        double sum = 0;
        for (int l = 0; l < S.length(); l++) {
            sum += v.lane(l);
        }
        return sum;
    }

    public static void axpyScalar(double a, double[] x, int xOff, double[] y, int yOff, int n) {
        for (int i = 0; i < n; i++) {
            y[yOff + i] += a * x[xOff + i];
        }
    }

    /** y[yOff..] += a · x[xOff..] */
    public static void axpy(double a, double[] x, int xOff, double[] y, int yOff, int n) {
        if (n < SHORT) {
            axpyScalar(a, x, xOff, y, yOff, n);
            return;
        }
        int i = 0;
        int upper = S.loopBound(n);
        DoubleVector av = DoubleVector.broadcast(S, a);
        for (; i < upper; i += S.length()) {
            DoubleVector.fromArray(S, x, xOff + i).fma(av, DoubleVector.fromArray(S, y, yOff + i)).intoArray(y, yOff + i);
        }
        for (; i < n; i++) {
            y[yOff + i] += a * x[xOff + i];
        }
    }

    /** Widens n floats into doubles. */
    public static void widen(float[] src, double[] dst, int n) {
        for (int i = 0; i < n; i++) {
            dst[i] = src[i];
        }
    }
}
