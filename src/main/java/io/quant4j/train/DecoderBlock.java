package io.quant4j.train;

import io.quant4j.model.LlamaConfig;

import java.util.ArrayList;
import java.util.List;
import java.util.random.RandomGenerator;

/**
 * One Llama decoder layer over a whole sequence, forward and backward:
 * mid = x + o(attention(rope(q(n1)), rope(k(n1)), v(n1))) with n1 = rmsnorm(x), and
 * out = mid + down(silu(gate(n2)) ⊙ up(n2)) with n2 = rmsnorm(mid).
 */
public final class DecoderBlock {
    final LlamaConfig config;
    final NormWeight attnNorm;
    final Linear q;
    final Linear k;
    final Linear v;
    final Linear o;
    final NormWeight ffnNorm;
    final Linear gate;
    final Linear up;
    final Linear down;

    /** The activations of one forward call that the backward call reads. */
    static final class Trace {
        double[] input;
        double[] n1;
        double[] inv1;
        double[] q;
        double[] k;
        double[] v;
        double[] probs;
        double[] attn;
        double[] mid;
        double[] n2;
        double[] inv2;
        double[] gate;
        double[] up;
        double[] hidden;
        Linear.Saved sq;
        Linear.Saved sk;
        Linear.Saved sv;
        Linear.Saved so;
        Linear.Saved sGate;
        Linear.Saved sUp;
        Linear.Saved sDown;
    }

    DecoderBlock(LlamaConfig config, NormWeight attnNorm, Linear q, Linear k, Linear v, Linear o, NormWeight ffnNorm,
                 Linear gate, Linear up, Linear down) {
        this.config = config;
        this.attnNorm = attnNorm;
        this.q = q;
        this.k = k;
        this.v = v;
        this.o = o;
        this.ffnNorm = ffnNorm;
        this.gate = gate;
        this.up = up;
        this.down = down;
    }

    List<Linear> linears() {
        return List.of(q, k, v, o, gate, up, down);
    }

    List<Parameter> parameters() {
        List<Parameter> out = new ArrayList<>();
        if (attnNorm.parameter() != null) {
            out.add(attnNorm.parameter());
        }
        for (Linear l : List.of(q, k, v, o)) {
            out.addAll(l.parameters());
        }
        if (ffnNorm.parameter() != null) {
            out.add(ffnNorm.parameter());
        }
        for (Linear l : List.of(gate, up, down)) {
            out.addAll(l.parameters());
        }
        return out;
    }

    /** Runs the layer on x [rows × dim] in place and returns what the backward pass needs. */
    Trace forward(double[] x, int rows, Rope rope, double[][] ropeTables, RandomGenerator dropout) {
        LlamaConfig c = config;
        int dim = c.dim();
        double eps = c.rmsNormEps();
        Trace t = new Trace();
        t.input = x.clone();
        t.n1 = new double[rows * dim];
        t.inv1 = new double[rows];
        RmsNorm.forward(x, attnNorm.values(), rows, dim, eps, t.n1, t.inv1);
        t.q = new double[rows * c.qDim()];
        t.k = new double[rows * c.kvDim()];
        t.v = new double[rows * c.kvDim()];
        t.sq = q.forward(t.n1, rows, t.q, dropout);
        t.sk = k.forward(t.n1, rows, t.k, dropout);
        t.sv = v.forward(t.n1, rows, t.v, dropout);
        rope.rotate(t.q, rows, c.nHeads(), ropeTables, false);
        rope.rotate(t.k, rows, c.nKvHeads(), ropeTables, false);
        t.probs = new double[c.nHeads() * rows * rows];
        t.attn = new double[rows * c.qDim()];
        CausalAttention.forward(t.q, t.k, t.v, rows, c.nHeads(), c.nKvHeads(), c.headDim(), t.probs, t.attn);
        double[] delta = new double[rows * dim];
        t.so = o.forward(t.attn, rows, delta, dropout);
        for (int i = 0; i < x.length; i++) {
            x[i] += delta[i];
        }
        t.mid = x.clone();
        t.n2 = new double[rows * dim];
        t.inv2 = new double[rows];
        RmsNorm.forward(x, ffnNorm.values(), rows, dim, eps, t.n2, t.inv2);
        int hid = c.hiddenDim();
        t.gate = new double[rows * hid];
        t.up = new double[rows * hid];
        t.sGate = gate.forward(t.n2, rows, t.gate, dropout);
        t.sUp = up.forward(t.n2, rows, t.up, dropout);
        t.hidden = new double[rows * hid];
        SwiGlu.forward(t.gate, t.up, rows * hid, t.hidden);
        t.sDown = down.forward(t.hidden, rows, delta, dropout);
        for (int i = 0; i < x.length; i++) {
            x[i] += delta[i];
        }
        return t;
    }

    /**
     * Turns dx from the gradient at the layer's output into the gradient at its input (in place), adding
     * parameter gradients on the way. With {@code needInputGrad} false nothing below needs dx, so the products
     * that only feed it are skipped (dx is then left holding the gradient at mid).
     */
    void backward(Trace t, double[] dx, int rows, Rope rope, double[][] ropeTables, boolean needInputGrad) {
        LlamaConfig c = config;
        int dim = c.dim();
        int hid = c.hiddenDim();
        double[] dHidden = new double[rows * hid];
        down.backward(t.sDown, t.hidden, dx, rows, dHidden);
        double[] dGate = new double[rows * hid];
        double[] dUp = new double[rows * hid];
        SwiGlu.backward(t.gate, t.up, dHidden, rows * hid, dGate, dUp);
        double[] dn2 = new double[rows * dim];
        gate.backward(t.sGate, t.n2, dGate, rows, dn2);
        up.backward(t.sUp, t.n2, dUp, rows, dn2);
        RmsNorm.backward(t.mid, ffnNorm.values(), t.inv2, dn2, rows, dim, dx, ffnNorm.gradient());
        // dx now holds the gradient at mid

        double[] dAttn = new double[rows * c.qDim()];
        o.backward(t.so, t.attn, dx, rows, dAttn);
        double[] dq = new double[rows * c.qDim()];
        double[] dk = new double[rows * c.kvDim()];
        double[] dv = new double[rows * c.kvDim()];
        CausalAttention.backward(t.q, t.k, t.v, t.probs, dAttn, rows, c.nHeads(), c.nKvHeads(), c.headDim(), dq, dk, dv);
        rope.rotate(dq, rows, c.nHeads(), ropeTables, true);
        rope.rotate(dk, rows, c.nKvHeads(), ropeTables, true);
        boolean needN1 = needInputGrad || attnNorm.parameter() != null;
        double[] dn1 = needN1 ? new double[rows * dim] : null;
        q.backward(t.sq, t.n1, dq, rows, dn1);
        k.backward(t.sk, t.n1, dk, rows, dn1);
        v.backward(t.sv, t.n1, dv, rows, dn1);
        if (needN1) {
            RmsNorm.backward(t.input, attnNorm.values(), t.inv1, dn1, rows, dim, needInputGrad ? dx : null, attnNorm.gradient());
        }
    }
}
