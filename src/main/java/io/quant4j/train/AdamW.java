package io.quant4j.train;

import java.util.List;

/**
 * AdamW as torch.optim.AdamW computes it: decoupled weight decay (p ← p·(1 − lr·wd), for parameters that
 * decay), then the Adam step with bias-corrected moments, p ← p − lr/(1−β1ᵗ) · m / (√v/√(1−β2ᵗ) + eps).
 */
public final class AdamW {
    /** beta1, beta2, epsilon and weight decay (transformers' defaults: 0.9, 0.999, 1e-8, 0). */
    public record Settings(double beta1, double beta2, double epsilon, double weightDecay) {
        public static final Settings DEFAULT = new Settings(0.9, 0.999, 1e-8, 0);

        public Settings {
            if (!(beta1 >= 0 && beta1 < 1) || !(beta2 >= 0 && beta2 < 1)) {
                throw new IllegalArgumentException("Adam betas must be in [0, 1), got " + beta1 + ", " + beta2);
            }
            if (!(epsilon > 0) || !(weightDecay >= 0)) {
                throw new IllegalArgumentException("Adam epsilon must be positive and weight decay not negative");
            }
        }
    }

    private final List<Parameter> parameters;
    private final Settings settings;
    private final double[][] m;
    private final double[][] v;
    private long steps;

    public AdamW(List<Parameter> parameters, Settings settings) {
        this.parameters = List.copyOf(parameters);
        this.settings = settings;
        this.m = new double[parameters.size()][];
        this.v = new double[parameters.size()][];
        for (int i = 0; i < parameters.size(); i++) {
            m[i] = new double[parameters.get(i).size()];
            v[i] = new double[parameters.get(i).size()];
        }
    }

    /** One update with learning rate {@code lr} from the gradients held by the parameters. */
    public void step(double lr) {
        steps++;
        double b1 = settings.beta1();
        double b2 = settings.beta2();
        double stepSize = lr / (1 - Math.pow(b1, steps));
        double correction2 = Math.sqrt(1 - Math.pow(b2, steps));
        for (int i = 0; i < parameters.size(); i++) {
            Parameter p = parameters.get(i);
            double[] w = p.value();
            double[] g = p.grad();
            double[] mi = m[i];
            double[] vi = v[i];
            double decay = p.decays() ? 1 - lr * settings.weightDecay() : 1;
            for (int j = 0; j < w.length; j++) {
                w[j] *= decay;
                mi[j] = b1 * mi[j] + (1 - b1) * g[j];
                vi[j] = b2 * vi[j] + (1 - b2) * g[j] * g[j];
                w[j] -= stepSize * mi[j] / (Math.sqrt(vi[j]) / correction2 + settings.epsilon());
            }
        }
    }

    public long steps() {
        return steps;
    }

    public List<Parameter> parameters() {
        return parameters;
    }

    /** First moments, in parameter order (for checkpoints). */
    public double[][] firstMoments() {
        return m;
    }

    /** Second moments, in parameter order (for checkpoints). */
    public double[][] secondMoments() {
        return v;
    }

    /** Restores the step count (the moments are restored in place through the arrays above). */
    public void restoreSteps(long n) {
        this.steps = n;
    }
}
