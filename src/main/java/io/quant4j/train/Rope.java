package io.quant4j.train;

import io.quant4j.model.LlamaConfig;

/**
 * Rotary position embedding on interleaved pairs (2i, 2i+1) of the first ropeDim values of every head, the
 * layout GGUF stores q/k rows in; the frequencies are computed as {@code Llama} computes them (theta, scaling,
 * per-pair factors). The rotation is orthogonal, so the backward pass is the rotation by the opposite angle.
 */
public final class Rope {
    private final double[] invFreq;
    private final int headDim;

    public Rope(LlamaConfig c) {
        int pairs = c.ropeDim() / 2;
        this.invFreq = new double[pairs];
        this.headDim = c.headDim();
        for (int i = 0; i < pairs; i++) {
            double f = 1.0 / Math.pow(c.ropeTheta(), (2.0 * i) / c.ropeDim());
            f = c.ropeScaling().apply(f);
            if (c.ropeFreqFactors() != null) {
                f /= c.ropeFreqFactors()[i];
            }
            invFreq[i] = f;
        }
    }

    /** cos/sin of position t·invFreq[i], [rows × pairs], for positions 0..rows-1. */
    public double[][] tables(int rows) {
        int pairs = invFreq.length;
        double[] cos = new double[rows * pairs];
        double[] sin = new double[rows * pairs];
        for (int t = 0; t < rows; t++) {
            for (int i = 0; i < pairs; i++) {
                double angle = t * invFreq[i];
                cos[t * pairs + i] = Math.cos(angle);
                sin[t * pairs + i] = Math.sin(angle);
            }
        }
        return new double[][] {cos, sin};
    }

    /** Rotates v [rows × heads·headDim] in place; {@code inverse} rotates back (the backward pass). */
    public void rotate(double[] v, int rows, int heads, double[][] tables, boolean inverse) {
        int pairs = invFreq.length;
        double[] cos = tables[0];
        double[] sin = tables[1];
        int width = heads * headDim;
        for (int t = 0; t < rows; t++) {
            for (int h = 0; h < heads; h++) {
                int base = t * width + h * headDim;
                for (int i = 0; i < pairs; i++) {
                    double c = cos[t * pairs + i];
                    double s = inverse ? -sin[t * pairs + i] : sin[t * pairs + i];
                    double a = v[base + 2 * i];
                    double b = v[base + 2 * i + 1];
                    v[base + 2 * i] = a * c - b * s;
                    v[base + 2 * i + 1] = a * s + b * c;
                }
            }
        }
    }
}
