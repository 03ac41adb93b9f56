package io.quant4j.train;

import io.quant4j.model.RopeRowOrder;
import io.quant4j.quantize.bnb.BnbOptions;
import io.quant4j.quantize.bnb.BnbQuantizer;
import io.quant4j.tensor.WeightMatrix;
import io.quant4j.tensor.bnb.Blockwise4bitMatrix;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.util.Random;
import java.util.function.DoubleSupplier;

import static io.quant4j.train.GradientCheck.check;
import static io.quant4j.train.GradientCheck.project;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * The frozen base of QLoRA / LoRA-on-int8: bitsandbytes NF4 (+ double quantization), FP4 and LLM.int8 weights read
 * by {@link FrozenLinear} compute exactly what a dense layer holding the dequantized weights computes, forward and
 * backward, and their gradients match finite differences; so does LoRA on top of them.
 */
class BnbFrozenLinearTest {
    private final Random random = new Random(11);
    private final Arena arena = Arena.ofAuto();

    /** 8 rows of 172: 64-value blocks run across rows; q-style row map (HF rotate-half order in storage). */
    private static final int OUT = 8;
    private static final int IN = 172;
    private static final int ROWS = 3;

    private float[] weights() {
        float[] w = new float[OUT * IN];
        for (int i = 0; i < w.length; i++) {
            w[i] = (float) (random.nextGaussian() * 0.1);
        }
        return w;
    }

    private WeightMatrix fourBit(String type, boolean doubleQuant) {
        Blockwise4bitMatrix m = BnbQuantizer.fourBit(weights(), OUT, IN, BnbOptions.fourBit(type, doubleQuant, 64),
                RopeRowOrder.hfRowOfGgufRow(2, 4), arena);
        assertThat(m.quantType()).isEqualTo(type);
        assertThat(m.absmax().nested()).isEqualTo(doubleQuant);
        return m;
    }

    private WeightMatrix int8() {
        return BnbQuantizer.int8(weights(), OUT, IN, 6.0f, null, arena);
    }

    /** A trainable dense layer holding the matrix's dequantized values (what bitsandbytes' backward multiplies by). */
    private static Parameter dequantized(WeightMatrix m) {
        Parameter p = Parameter.matrix("w", m.rows(), m.cols());
        float[] row = new float[m.cols()];
        for (int r = 0; r < m.rows(); r++) {
            m.dequantizeRow(r, row, 0);
            for (int j = 0; j < row.length; j++) {
                p.value()[r * row.length + j] = row[j];
            }
        }
        return p;
    }

    @Test
    void frozenBnbLayersAgreeWithTheDequantizedDenseLayer() {
        for (WeightMatrix m : new WeightMatrix[] {fourBit("nf4", true), fourBit("nf4", false), fourBit("fp4", false), int8()}) {
            FrozenLinear frozen = new FrozenLinear(m);
            DenseLinear dense = new DenseLinear(dequantized(m));
            double[] x = TinyLlamas.gaussian(random, ROWS * IN);
            double[] c = TinyLlamas.gaussian(random, ROWS * OUT);
            double[] y = new double[ROWS * OUT];
            double[] yDense = new double[ROWS * OUT];
            frozen.forward(x, ROWS, y, null);
            dense.forward(x, ROWS, yDense, null);
            for (int i = 0; i < y.length; i++) {
                assertThat(y[i]).as(m.format() + " y[" + i + "]").isCloseTo(yDense[i], org.assertj.core.data.Offset.offset(1e-12));
            }
            double[] dx = new double[ROWS * IN];
            double[] dxDense = new double[ROWS * IN];
            frozen.backward(null, x, c, ROWS, dx);
            dense.backward(null, x, c, ROWS, dxDense);
            for (int i = 0; i < dx.length; i++) {
                assertThat(dx[i]).as(m.format() + " dx[" + i + "]").isCloseTo(dxDense[i], org.assertj.core.data.Offset.offset(1e-12));
            }
            check(m.format() + " frozen dx", x, dx, () -> {
                double[] yy = new double[ROWS * OUT];
                frozen.forward(x, ROWS, yy, null);
                return project(c, yy);
            });
            assertThat(frozen.parameters()).isEmpty();
        }
    }

    @Test
    void loraOnAnNf4BaseHasFiniteDifferenceGradients() {
        int rank = 3;
        Parameter a = Parameter.matrix("lora_A", rank, IN);
        Parameter b = Parameter.matrix("lora_B", OUT, rank);
        System.arraycopy(TinyLlamas.gaussian(random, a.value().length), 0, a.value(), 0, a.value().length);
        System.arraycopy(TinyLlamas.gaussian(random, b.value().length), 0, b.value(), 0, b.value().length); // B ≠ 0 so dA ≠ 0
        LoraLinear lora = new LoraLinear(new FrozenLinear(fourBit("nf4", true)), a, b, 2.0, 0.0);
        double[] x = TinyLlamas.gaussian(random, ROWS * IN);
        double[] c = TinyLlamas.gaussian(random, ROWS * OUT);
        DoubleSupplier f = () -> {
            double[] y = new double[ROWS * OUT];
            lora.forward(x, ROWS, y, null);
            return project(c, y);
        };
        double[] y = new double[ROWS * OUT];
        var saved = lora.forward(x, ROWS, y, null);
        double[] dx = new double[ROWS * IN];
        lora.backward(saved, x, c, ROWS, dx);
        check("nf4 + LoRA dx", x, dx, f);
        check("nf4 + LoRA dA", a.value(), a.grad(), f);
        check("nf4 + LoRA dB", b.value(), b.grad(), f);
        assertThat(lora.parameters()).containsExactly(a, b); // the NF4 base itself is not trained
    }
}
