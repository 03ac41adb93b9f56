package io.quant4j.train;

/** An RMSNorm weight vector: frozen (values only) or trained (values shared with a {@link Parameter}). */
public final class NormWeight {
    private final double[] values;
    private final Parameter parameter;

    private NormWeight(double[] values, Parameter parameter) {
        this.values = values;
        this.parameter = parameter;
    }

    public static NormWeight frozen(float[] w) {
        double[] v = new double[w.length];
        DoubleKernels.widen(w, v, w.length);
        return new NormWeight(v, null);
    }

    public static NormWeight trained(String name, float[] w) {
        Parameter p = Parameter.vector(name, w.length);
        DoubleKernels.widen(w, p.value(), w.length);
        return new NormWeight(p.value(), p);
    }

    public double[] values() {
        return values;
    }

    /** The parameter, or null when frozen. */
    public Parameter parameter() {
        return parameter;
    }

    /** Where the backward pass adds this weight's gradient, or null when frozen. */
    double[] gradient() {
        return parameter == null ? null : parameter.grad();
    }
}
