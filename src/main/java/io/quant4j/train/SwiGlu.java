package io.quant4j.train;

/** The SwiGLU gate: h = silu(g) ⊙ u with silu(g) = g·σ(g). */
public final class SwiGlu {
    private SwiGlu() {
    }

    public static void forward(double[] g, double[] u, int n, double[] h) {
        for (int i = 0; i < n; i++) {
            h[i] = g[i] * sigmoid(g[i]) * u[i];
        }
    }

    /** Writes dg and du from dh; silu'(g) = σ(g)·(1 + g·(1 − σ(g))). */
    public static void backward(double[] g, double[] u, double[] dh, int n, double[] dg, double[] du) {
        for (int i = 0; i < n; i++) {
            double s = sigmoid(g[i]);
            du[i] = dh[i] * g[i] * s;
            dg[i] = dh[i] * u[i] * s * (1 + g[i] * (1 - s));
        }
    }

    static double sigmoid(double x) {
        return 1.0 / (1.0 + Math.exp(-x));
    }
}
