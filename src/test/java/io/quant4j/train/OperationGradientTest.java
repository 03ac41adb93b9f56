package io.quant4j.train;

import io.quant4j.model.LlamaConfig;
import io.quant4j.model.RopeScaling;
import io.quant4j.tensor.GgmlType;
import io.quant4j.tensor.WeightMatrix;
import org.junit.jupiter.api.Test;

import java.util.Random;
import java.util.SplittableRandom;

import static io.quant4j.train.GradientCheck.check;
import static io.quant4j.train.GradientCheck.project;
import static org.assertj.core.api.Assertions.assertThat;

/** Every operation of the training engine against finite differences, on tiny random shapes, in double. */
class OperationGradientTest {
    private final Random random = new Random(42);

    @Test
    void rmsNorm() {
        int rows = 3;
        int n = 5;
        double[] x = TinyLlamas.gaussian(random, rows * n);
        double[] w = TinyLlamas.gaussian(random, n);
        double[] c = TinyLlamas.gaussian(random, rows * n);
        double eps = 1e-5;
        java.util.function.DoubleSupplier f = () -> {
            double[] y = new double[rows * n];
            RmsNorm.forward(x, w, rows, n, eps, y, new double[rows]);
            return project(c, y);
        };
        double[] y = new double[rows * n];
        double[] inv = new double[rows];
        RmsNorm.forward(x, w, rows, n, eps, y, inv);
        double[] dx = new double[rows * n];
        double[] dw = new double[n];
        RmsNorm.backward(x, w, inv, c, rows, n, dx, dw);
        check("rmsnorm dx", x, dx, f);
        check("rmsnorm dw", w, dw, f);
    }

    @Test
    void ropeOnInterleavedPairsWithScalingAndFactors() {
        LlamaConfig c = new LlamaConfig("llama", 16, 8, 1, 2, 1, 8, 4, 32, 1e-5f, 500f, 6,
                RopeScaling.linear(2f), new float[] {1f, 2f, 4f});
        Rope rope = new Rope(c);
        int rows = 4;
        double[] x = TinyLlamas.gaussian(random, rows * 16);
        double[] cc = TinyLlamas.gaussian(random, rows * 16);
        double[][] tables = rope.tables(rows);
        java.util.function.DoubleSupplier f = () -> {
            double[] y = x.clone();
            rope.rotate(y, rows, 2, tables, false);
            return project(cc, y);
        };
        double[] dx = cc.clone();
        rope.rotate(dx, rows, 2, tables, true);
        check("rope dx", x, dx, f);
        // the last two values of each head (beyond rope dim 6) pass through unrotated
        double[] y = x.clone();
        rope.rotate(y, rows, 2, tables, false);
        assertThat(y[3 * 16 + 6]).isEqualTo(x[3 * 16 + 6]);
        assertThat(y[0]).isEqualTo(x[0]); // position 0 is not rotated
    }

    @Test
    void causalAttentionWithGroupedHeads() {
        int rows = 4;
        int heads = 4;
        int kv = 2;
        int d = 3;
        double[] q = TinyLlamas.gaussian(random, rows * heads * d);
        double[] k = TinyLlamas.gaussian(random, rows * kv * d);
        double[] v = TinyLlamas.gaussian(random, rows * kv * d);
        double[] c = TinyLlamas.gaussian(random, rows * heads * d);
        java.util.function.DoubleSupplier f = () -> {
            double[] out = new double[rows * heads * d];
            CausalAttention.forward(q, k, v, rows, heads, kv, d, new double[heads * rows * rows], out);
            return project(c, out);
        };
        double[] probs = new double[heads * rows * rows];
        double[] out = new double[rows * heads * d];
        CausalAttention.forward(q, k, v, rows, heads, kv, d, probs, out);
        double[] dq = new double[q.length];
        double[] dk = new double[k.length];
        double[] dv = new double[v.length];
        CausalAttention.backward(q, k, v, probs, c, rows, heads, kv, d, dq, dk, dv);
        check("attention dq", q, dq, f);
        check("attention dk", k, dk, f);
        check("attention dv", v, dv, f);
        // causal: the first position attends only to itself
        assertThat(probs[0]).isEqualTo(1.0);
        assertThat(probs[1]).isZero();
    }

    @Test
    void swiGlu() {
        int n = 7;
        double[] g = TinyLlamas.gaussian(random, n);
        double[] u = TinyLlamas.gaussian(random, n);
        double[] c = TinyLlamas.gaussian(random, n);
        java.util.function.DoubleSupplier f = () -> {
            double[] h = new double[n];
            SwiGlu.forward(g, u, n, h);
            return project(c, h);
        };
        double[] dg = new double[n];
        double[] du = new double[n];
        SwiGlu.backward(g, u, c, n, dg, du);
        check("swiglu dg", g, dg, f);
        check("swiglu du", u, du, f);
    }

    @Test
    void crossEntropy() {
        double[] z = TinyLlamas.gaussian(random, 9);
        for (int i = 0; i < z.length; i++) {
            z[i] *= 3;
        }
        double[] dz = new double[9];
        double loss = CrossEntropy.lossAndGradient(z, 0, 9, 4, 0.5, dz);
        check("cross-entropy dz", z, dz, () -> 0.5 * CrossEntropy.lossAndGradient(z, 0, 9, 4, 0, null));
        double sum = 0;
        for (double v : z) {
            sum += Math.exp(v);
        }
        assertThat(loss).isCloseTo(Math.log(sum) - z[4], org.assertj.core.data.Offset.offset(1e-12));
    }

    @Test
    void softTargetCrossEntropy() {
        double[] z = TinyLlamas.gaussian(random, 9);
        double[] teacher = TinyLlamas.gaussian(random, 9);
        double[] dz = new double[9];
        double loss = CrossEntropy.softTargetLossAndGradient(z, 0, 9, teacher, 0, 0.5, dz);
        check("soft cross-entropy dz", z, dz, () -> 0.5 * CrossEntropy.softTargetLossAndGradient(z, 0, 9, teacher, 0, 0, null));
        // equal to the hard loss when the teacher is sure of one class
        double[] sure = new double[9];
        sure[4] = 1000;
        assertThat(CrossEntropy.softTargetLossAndGradient(z, 0, 9, sure, 0, 1, null))
                .isCloseTo(CrossEntropy.lossAndGradient(z, 0, 9, 4, 1, null), org.assertj.core.data.Offset.offset(1e-9));
        assertThat(loss).isPositive();
    }

    @Test
    void frozenLinearStreamsRowsOfAnyType() {
        for (GgmlType type : new GgmlType[] {GgmlType.F32, GgmlType.F16, GgmlType.Q8_0, GgmlType.Q4_K}) {
            int in = type.blockSize == 256 ? 256 : 64;
            int out = 5;
            int rows = 3;
            WeightMatrix w = TinyLlamas.matrix(random, out, in, type);
            FrozenLinear lin = new FrozenLinear(w);
            double[] x = TinyLlamas.gaussian(random, rows * in);
            double[] c = TinyLlamas.gaussian(random, rows * out);
            double[] y = new double[rows * out];
            lin.forward(x, rows, y, null);
            float[] xf = new float[in];
            for (int t = 0; t < rows; t++) {
                for (int j = 0; j < in; j++) {
                    xf[j] = (float) x[t * in + j];
                }
                for (int r = 0; r < out; r++) {
                    assertThat(y[t * out + r]).as(type + " row " + r).isCloseTo(w.dot(r, xf, 0), org.assertj.core.data.Offset.offset(1e-3));
                }
            }
            double[] dx = new double[rows * in];
            lin.backward(null, x, c, rows, dx);
            check(type + " frozen dx", x, dx, () -> {
                double[] yy = new double[rows * out];
                lin.forward(x, rows, yy, null);
                return project(c, yy);
            });
        }
    }

    @Test
    void denseLinear() {
        int in = 6;
        int out = 4;
        int rows = 3;
        Parameter p = Parameter.matrix("w", out, in);
        System.arraycopy(TinyLlamas.gaussian(random, out * in), 0, p.value(), 0, out * in);
        DenseLinear lin = new DenseLinear(p);
        double[] x = TinyLlamas.gaussian(random, rows * in);
        double[] c = TinyLlamas.gaussian(random, rows * out);
        java.util.function.DoubleSupplier f = () -> {
            double[] y = new double[rows * out];
            lin.forward(x, rows, y, null);
            return project(c, y);
        };
        double[] dx = new double[rows * in];
        lin.backward(null, x, c, rows, dx);
        check("dense dx", x, dx, f);
        check("dense dW", p.value(), p.grad(), f);
    }

    @Test
    void loraWithDropout() {
        int in = 6;
        int out = 5;
        int rows = 3;
        int rank = 2;
        WeightMatrix w = TinyLlamas.matrix(random, out, in, GgmlType.F32);
        Parameter a = Parameter.matrix("a", rank, in);
        Parameter b = Parameter.matrix("b", out, rank);
        LoraLinear.initialize(a, b, new SplittableRandom(1));
        assertThat(b.value()).containsOnly(0.0);
        System.arraycopy(TinyLlamas.gaussian(random, out * rank), 0, b.value(), 0, out * rank);
        LoraLinear lin = new LoraLinear(new FrozenLinear(w), a, b, 1.5, 0.3);
        double[] x = TinyLlamas.gaussian(random, rows * in);
        double[] c = TinyLlamas.gaussian(random, rows * out);
        // the same seed gives the same dropout mask in every evaluation
        java.util.function.DoubleSupplier f = () -> {
            double[] y = new double[rows * out];
            lin.forward(x, rows, y, new SplittableRandom(7));
            return project(c, y);
        };
        double[] y = new double[rows * out];
        Linear.Saved saved = lin.forward(x, rows, y, new SplittableRandom(7));
        double[] dx = new double[rows * in];
        lin.backward(saved, x, c, rows, dx);
        check("lora dx", x, dx, f);
        check("lora dA", a.value(), a.grad(), f);
        check("lora dB", b.value(), b.grad(), f);
    }
}
