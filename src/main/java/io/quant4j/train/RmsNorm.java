package io.quant4j.train;

/**
 * RMSNorm over each of T rows of n values: y = x · r ⊙ w with r = 1/√(mean(x²) + eps), as
 * {@code Llama.rmsNorm} computes it (eps added to the mean, no centering).
 */
public final class RmsNorm {
    private RmsNorm() {
    }

    /** Writes y and the per-row factor r (kept for the backward pass). */
    public static void forward(double[] x, double[] w, int rows, int n, double eps, double[] y, double[] invRms) {
        for (int t = 0; t < rows; t++) {
            int o = t * n;
            double sum = 0;
            for (int i = 0; i < n; i++) {
                sum += x[o + i] * x[o + i];
            }
            double r = 1.0 / Math.sqrt(sum / n + eps);
            invRms[t] = r;
            for (int i = 0; i < n; i++) {
                y[o + i] = x[o + i] * r * w[i];
            }
        }
    }

    /**
     * Adds to dx (unless null) the gradient through the norm and, when dw is not null, to dw the gradient of w.
     * With g = dy ⊙ w: dx = r·g − x · r³ · (g·x) / n.
     */
    public static void backward(double[] x, double[] w, double[] invRms, double[] dy, int rows, int n, double[] dx, double[] dw) {
        for (int t = 0; t < rows; t++) {
            int o = t * n;
            double r = invRms[t];
            double gx = 0;
            for (int i = 0; i < n; i++) {
                gx += dy[o + i] * w[i] * x[o + i];
            }
            double c = r * r * r * gx / n;
            if (dx != null) {
                for (int i = 0; i < n; i++) {
                    dx[o + i] += r * dy[o + i] * w[i] - x[o + i] * c;
                }
            }
            if (dw != null) {
                for (int i = 0; i < n; i++) {
                    dw[i] += dy[o + i] * x[o + i] * r;
                }
            }
        }
    }
}
