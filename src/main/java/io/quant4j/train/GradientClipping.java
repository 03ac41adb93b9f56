package io.quant4j.train;

import java.util.List;

/** torch.nn.utils.clip_grad_norm_: scales all gradients by max/(norm + 1e-6) when their joint L2 norm exceeds max. */
public final class GradientClipping {
    private GradientClipping() {
    }

    /** Returns the norm before clipping; {@code maxNorm} ≤ 0 only measures. */
    public static double clip(List<Parameter> parameters, double maxNorm) {
        double sum = 0;
        for (Parameter p : parameters) {
            for (double g : p.grad()) {
                sum += g * g;
            }
        }
        double norm = Math.sqrt(sum);
        if (maxNorm > 0) {
            double coefficient = maxNorm / (norm + 1e-6);
            if (coefficient < 1) {
                for (Parameter p : parameters) {
                    double[] g = p.grad();
                    for (int i = 0; i < g.length; i++) {
                        g[i] *= coefficient;
                    }
                }
            }
        }
        return norm;
    }
}
