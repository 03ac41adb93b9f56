package io.quant4j.tensor.quant;

import io.quant4j.tensor.GgmlType;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

/**
 * The integer (int8-activation) dot kernels: Vector API against scalar reference, the scalar reference against the
 * float reference within the error that quantizing the activations can cause, and the Q8_K activation quantizer
 * against the Q8_K codec's bytes.
 */
class IntDotKernelsTest {
    private static final String TYPES = "Q4_0|Q8_0|Q4_K|Q6_K";

    private static float[] activations(Random r, int n, int trial) {
        float[] x = new float[n];
        double xs = trial == 0 ? 1 : trial == 1 ? 1e-4 : 3e3;
        for (int j = 0; j < n; j++) {
            x[j] = (float) (r.nextGaussian() * xs + (trial == 2 ? 5 * xs : 0));
            if (trial == 3 && (j / 32) % 3 == 1) {
                x[j] = 0; // all-zero activation blocks
            }
        }
        return x;
    }

    @ParameterizedTest
    @EnumSource(mode = EnumSource.Mode.MATCH_ALL, names = TYPES)
    void vectorKernelsMatchScalarReferenceAndStayWithinTheActivationQuantizationBound(GgmlType type) {
        Random r = new Random(3000 + type.id);
        GgmlType layout = Q8Activations.layoutFor(type);
        int actBlock = layout == GgmlType.Q8_0 ? 32 : 256;
        int[] colsChoices = type.blockSize == 256 ? new int[] {256, 768, 2816} : new int[] {32, 96, 2080};
        try (Arena arena = Arena.ofConfined()) {
            for (int cols : colsChoices) {
                int rows = 11;
                MemorySegment seg = arena.allocate(type.byteSize(cols) * rows);
                RowCodecs.quantizeRows(type, KernelDifferentialTest.weights(r, rows, cols), rows, cols, seg, null);
                QuantizedMatrix m = new QuantizedMatrix(type, seg, rows, cols);
                for (int trial = 0; trial < 4; trial++) {
                    float[] x = activations(r, cols, trial);
                    Q8Activations a = new Q8Activations();
                    a.quantize(layout, x, 0, cols);
                    float[] fast = new float[rows];
                    float[] scalar = new float[rows];
                    m.matVecQ8(a, fast, 0, rows, true);
                    m.matVecQ8(a, scalar, 0, rows, false);
                    float[] w = new float[cols];
                    for (int i = 0; i < rows; i++) {
                        m.dequantizeRowScalar(i, w, 0);
                        double mag = 0;
                        double bound = 0;
                        for (int j = 0; j < cols; j++) {
                            double xq = (double) a.d[j / actBlock] * a.q[j];
                            mag += Math.abs(w[j] * xq) + Math.abs(w[j] * x[j]);
                            // |x − d·q| ≤ d/2, plus the fp16 rounding of a Q8_0 scale (|q| ≤ 127 times 2^-11·d)
                            bound += Math.abs(w[j] * a.d[j / actBlock]) * (layout == GgmlType.Q8_0 ? 0.57 : 0.5);
                        }
                        double tol = 1.6e-5 * mag + 1e-35;
                        assertThat((double) fast[i]).as("%s cols %d trial %d row %d fast vs scalar", type, cols, trial, i)
                                .isCloseTo(scalar[i], within(tol));
                        float ref = m.dotScalar(i, x, 0);
                        assertThat((double) scalar[i]).as("%s cols %d trial %d row %d int vs float", type, cols, trial, i)
                                .isCloseTo(ref, within(bound + tol));
                    }
                }
            }
        }
    }

    @Test
    void q8KActivationsAreTheQ8KCodecsValues() {
        Random r = new Random(77);
        int n = 768;
        float[] x = activations(r, n, 0);
        for (int j = 256; j < 512; j++) {
            x[j] = 0; // the all-zero block
        }
        Q8Activations a = new Q8Activations();
        a.quantizeQ8_K(x, 0, n);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment seg = arena.allocate(GgmlType.Q8_K.byteSize(n));
            Q8_K.INSTANCE.quantizeRow(x, 0, n, seg, 0, null);
            for (int b = 0; b < n / 256; b++) {
                long bo = (long) b * Q8_K.BLOCK_BYTES;
                assertThat(a.d[b]).isEqualTo(seg.get(Bits.F32, bo + Q8_K.OFF_D));
                for (int j = 0; j < 256; j++) {
                    assertThat((int) a.q[256 * b + j]).isEqualTo((int) seg.get(ValueLayout.JAVA_BYTE, bo + Q8_K.OFF_QS + j));
                }
                for (int k = 0; k < 16; k++) {
                    assertThat(a.s16[16 * b + k]).isEqualTo((int) seg.get(Bits.I16, bo + Q8_K.OFF_BSUMS + 2L * k));
                }
            }
        }
    }

    @Test
    void q8_0ActivationsRoundHalfToEvenWithAnFp16Scale() {
        float[] x = new float[32];
        x[0] = 127f;      // amax: scale 1, so the other values are exact multiples of the step
        x[1] = 2.5f;      // ties go to even
        x[2] = -3.5f;
        x[3] = 0.49f;
        Q8Activations a = new Q8Activations();
        a.quantizeQ8_0(x, 0, 32);
        assertThat(a.d[0]).isEqualTo(1f);
        assertThat(new int[] {a.q[0], a.q[1], a.q[2], a.q[3]}).containsExactly(127, 2, -4, 0);
        assertThat(a.s16[0]).isEqualTo(125);
        assertThat(a.s16[1]).isEqualTo(0);
    }
}
