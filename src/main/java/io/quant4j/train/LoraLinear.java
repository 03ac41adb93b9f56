package io.quant4j.train;

import java.util.ArrayList;
import java.util.List;
import java.util.random.RandomGenerator;

/**
 * A frozen base weight plus a low-rank update, as PEFT's LoRA layer computes it:
 * y = W·x + scale · B·(A·dropout(x)) with A [r × in], B [out × r], scale = alpha / r. A starts
 * Kaiming-uniform (bound 1/√in, PEFT's kaiming_uniform_(a=√5)), B at zero, so training starts from the base.
 */
public final class LoraLinear implements Linear {
    private final Linear base;
    private final DenseLinear a;
    private final DenseLinear b;
    private final double scale;
    private final double dropout;

    /** The dropout mask (0 or 1/(1−p) per input value) and the low-rank intermediate A·x of one forward call. */
    private record LoraSaved(Saved base, double[] mask, double[] droppedInput, double[] lowRank) implements Saved {
    }

    public LoraLinear(Linear base, Parameter a, Parameter b, double scale, double dropout) {
        if (a.cols() != base.inputs() || b.rows() != base.outputs() || a.rows() != b.cols()) {
            throw new IllegalArgumentException("LoRA shapes " + a + " and " + b + " do not fit a base of "
                    + base.outputs() + "x" + base.inputs());
        }
        if (dropout < 0 || dropout >= 1) {
            throw new IllegalArgumentException("lora_dropout must be in [0, 1), got " + dropout);
        }
        this.base = base;
        this.a = new DenseLinear(a);
        this.b = new DenseLinear(b);
        this.scale = scale;
        this.dropout = dropout;
    }

    /** PEFT's initialization: A uniform in ±1/√in, B zero. */
    public static void initialize(Parameter a, Parameter b, RandomGenerator random) {
        double bound = 1.0 / Math.sqrt(a.cols());
        double[] v = a.value();
        for (int i = 0; i < v.length; i++) {
            v[i] = (random.nextDouble() * 2 - 1) * bound;
        }
        java.util.Arrays.fill(b.value(), 0);
    }

    public Linear base() {
        return base;
    }

    public Parameter loraA() {
        return a.weight();
    }

    public Parameter loraB() {
        return b.weight();
    }

    public double scale() {
        return scale;
    }

    @Override
    public int inputs() {
        return base.inputs();
    }

    @Override
    public int outputs() {
        return base.outputs();
    }

    @Override
    public Saved forward(double[] x, int rows, double[] y, RandomGenerator random) {
        Saved baseSaved = base.forward(x, rows, y, random);
        double[] mask = null;
        double[] input = x;
        if (random != null && dropout > 0) {
            mask = new double[rows * inputs()];
            input = new double[mask.length];
            double keep = 1.0 / (1 - dropout);
            for (int i = 0; i < mask.length; i++) {
                mask[i] = random.nextDouble() < dropout ? 0 : keep;
                input[i] = x[i] * mask[i];
            }
        }
        double[] lowRank = new double[rows * a.outputs()];
        a.forward(input, rows, lowRank, null);
        double[] update = new double[rows * outputs()];
        b.forward(lowRank, rows, update, null);
        for (int i = 0; i < update.length; i++) {
            y[i] += scale * update[i];
        }
        return new LoraSaved(baseSaved, mask, mask == null ? null : input, lowRank);
    }

    @Override
    public void backward(Saved saved, double[] x, double[] dy, int rows, double[] dx) {
        LoraSaved s = (LoraSaved) saved;
        base.backward(s.base(), x, dy, rows, dx);
        double[] dUpdate = new double[dy.length];
        for (int i = 0; i < dy.length; i++) {
            dUpdate[i] = scale * dy[i];
        }
        double[] dLowRank = new double[s.lowRank().length];
        b.backward(null, s.lowRank(), dUpdate, rows, dLowRank);
        double[] input = s.mask() == null ? x : s.droppedInput();
        if (dx == null) {
            a.backward(null, input, dLowRank, rows, null);
        } else if (s.mask() == null) {
            a.backward(null, input, dLowRank, rows, dx);
        } else {
            double[] dInput = new double[input.length];
            a.backward(null, input, dLowRank, rows, dInput);
            for (int i = 0; i < dInput.length; i++) {
                dx[i] += dInput[i] * s.mask()[i];
            }
        }
    }

    @Override
    public List<Parameter> parameters() {
        List<Parameter> out = new ArrayList<>(base.parameters());
        out.add(a.weight());
        out.add(b.weight());
        return out;
    }
}
