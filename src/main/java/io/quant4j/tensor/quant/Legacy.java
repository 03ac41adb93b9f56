package io.quant4j.tensor.quant;

/** Pieces shared by the imatrix paths of the 32-element formats (quantize_row_q4_0_impl and friends). */
final class Legacy {
    private Legacy() {
    }

    /** σ² = Σx²/n over the whole row, accumulated in order as the C loop does. */
    static float rowSigma2(float[] x, int xo, int n) {
        float sumX2 = 0;
        for (int j = 0; j < n; ++j) {
            sumX2 += x[xo + j] * x[xo + j];
        }
        return sumX2 / n;
    }

    /** weight[j] = qw[j]·sqrtf(σ² + x[j]²) for one 32-element block. */
    static void imatrixWeights(float[] x, int xo, float[] qw, int qo, float sigma2, float[] weight) {
        for (int j = 0; j < weight.length; ++j) {
            float xj = x[xo + j];
            weight[j] = qw[qo + j] * Bits.sqrtf(sigma2 + xj * xj);
        }
    }
}
