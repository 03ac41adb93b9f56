package io.quant4j.quantize.bnb;

import io.quant4j.tensor.bnb.BnbCodes;
import io.quant4j.tensor.bnb.Blockwise4bitMatrix;
import io.quant4j.tensor.bnb.Int8Matrix;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.ValueLayout;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

/** bitsandbytes' 4-bit and 8-bit weight formats, checked against their definitions. */
class BnbQuantizerTest {

    static float[] random(Random rnd, int n) {
        float[] w = new float[n];
        for (int i = 0; i < n; i++) {
            w[i] = (float) (rnd.nextGaussian() * 0.02 * (i % 97 == 0 ? 8 : 1));
        }
        return w;
    }

    @Test
    void nf4PicksTheNearestCodeAndPacksTheFirstValueHigh() {
        try (Arena arena = Arena.ofConfined()) {
            // one block of 64: absmax 1, so values map straight onto the code book
            float[] w = new float[64];
            w[0] = 1f;
            w[1] = -1f;
            w[2] = 0.5626170039176941f + 0.001f;
            w[3] = 0.03f;     // nearer 0 than 0.0796
            w[4] = 0.05f;     // nearer 0.0796
            w[5] = -0.6f;     // between -0.6962 and -0.5251: nearer -0.5251
            Blockwise4bitMatrix m = BnbQuantizer.fourBit(w, 1, 64, BnbOptions.fourBit("nf4", false, 64), null, arena);
            int b0 = m.packed().get(ValueLayout.JAVA_BYTE, 0) & 0xFF;
            assertThat(b0 >>> 4).isEqualTo(15);
            assertThat(b0 & 15).isEqualTo(0);
            int b1 = m.packed().get(ValueLayout.JAVA_BYTE, 1) & 0xFF;
            assertThat(b1 >>> 4).isEqualTo(13);
            assertThat(b1 & 15).isEqualTo(7);
            int b2 = m.packed().get(ValueLayout.JAVA_BYTE, 2) & 0xFF;
            assertThat(b2 >>> 4).isEqualTo(8);
            assertThat(b2 & 15).isEqualTo(2);
            float[] row = new float[64];
            m.dequantizeRow(0, row, 0);
            assertThat(row[2]).isEqualTo(BnbCodes.NF4[13]);
            assertThat(row[63]).isEqualTo(0f);
        }
    }

    @Test
    void fp4KeepsTheSignInTheTopBit() {
        float[] code = BnbCodes.FP4;
        assertThat(BnbQuantizer.nearestFp4(1f, code)).isEqualTo(3);
        assertThat(BnbQuantizer.nearestFp4(-1f, code)).isEqualTo(11);
        assertThat(BnbQuantizer.nearestFp4(0.3f, code)).isEqualTo(4);   // 4/12 = 0.333
        assertThat(BnbQuantizer.nearestFp4(-0.01f, code)).isEqualTo(9); // -0.0625/12 = -0.0052
        assertThat(BnbQuantizer.nearestFp4(0f, code)).isEqualTo(0);
    }

    @Test
    void dynamicMapHas256SortedValuesFromMinusOneToOne() {
        float[] m = BnbCodes.dynamicMap();
        assertThat(m).hasSize(256);
        assertThat(m[255]).isEqualTo(1f);
        assertThat(m[0]).isCloseTo(-0.99297f, within(1e-4f));
        for (int i = 1; i < 256; i++) {
            assertThat(m[i]).isGreaterThanOrEqualTo(m[i - 1]);
        }
        assertThat(m).contains(0f);
    }

    @Test
    void blocksRunAcrossRowsAndDoubleQuantizedScalesStayClose() {
        Random rnd = new Random(7);
        int rows = 10;
        int cols = 172; // blocks of 64 straddle rows
        float[] w = random(rnd, rows * cols);
        int[] rowOf = {3, 1, 2, 0, 4, 5, 9, 7, 8, 6};
        try (Arena arena = Arena.ofConfined()) {
            for (String type : new String[] {"nf4", "fp4"}) {
                Blockwise4bitMatrix plain = BnbQuantizer.fourBit(w, rows, cols, BnbOptions.fourBit(type, false, 64), rowOf, arena);
                Blockwise4bitMatrix dq = BnbQuantizer.fourBit(w, rows, cols, BnbOptions.fourBit(type, true, 64), rowOf, arena);
                float[] code = BnbCodes.fourBit(type);
                float[] x = random(rnd, cols);
                float[] a = new float[cols];
                float[] b = new float[cols];
                for (int r = 0; r < rows; r++) {
                    plain.dequantizeRow(r, a, 0);
                    dq.dequantizeRow(r, b, 0);
                    double dot = 0;
                    for (int j = 0; j < cols; j++) {
                        long flat = (long) rowOf[r] * cols + j;
                        int nibble = (plain.packed().get(ValueLayout.JAVA_BYTE, flat / 2) >> ((flat & 1) == 0 ? 4 : 0)) & 15;
                        assertThat(a[j]).isEqualTo(code[nibble] * plain.absmax().get(flat / 64));
                        assertThat(Math.abs(a[j] - w[(int) flat])).isLessThanOrEqualTo(plain.absmax().get(flat / 64) * 0.35f);
                        // 8-bit absmax codes are coarse where |absmax − mean| is small next to the block of 256 it shares a scale with
                        assertThat(b[j]).isCloseTo(a[j], within(Math.abs(a[j]) * 0.06f + 1e-6f));
                        dot += (double) a[j] * x[j];
                    }
                    assertThat((double) plain.dot(r, x, 0)).isCloseTo(dot, within(1e-5));
                }
            }
        }
    }

    @Test
    void int8ComputesOutlierColumnsInFloat() {
        Random rnd = new Random(9);
        int rows = 20;
        int cols = 77;
        float[] w = random(rnd, rows * cols);
        try (Arena arena = Arena.ofConfined()) {
            Int8Matrix m = BnbQuantizer.int8(w, rows, cols, 6f, null, arena);
            float[] x = random(rnd, cols);
            for (int j = 0; j < cols; j++) {
                x[j] *= 50;
            }
            x[5] = 9f;   // outlier
            x[40] = -7f; // outlier
            float[] out = new float[rows];
            m.matVec(x, out, 0, rows);
            float absmax = 0;
            for (int j = 0; j < cols; j++) {
                if (j != 5 && j != 40) {
                    absmax = Math.max(absmax, Math.abs(x[j]));
                }
            }
            float[] row = new float[cols];
            for (int r = 0; r < rows; r++) {
                m.dequantizeRow(r, row, 0);
                float scb = 0;
                for (int j = 0; j < cols; j++) {
                    scb = Math.max(scb, Math.abs(w[r * cols + j]));
                }
                long intDot = 0;
                double outlier = 0;
                double exact = 0;
                for (int j = 0; j < cols; j++) {
                    int cb = Math.round(row[j] * 127f / scb);
                    assertThat(cb).isEqualTo((int) Math.rint(w[r * cols + j] * 127f / scb));
                    if (j == 5 || j == 40) {
                        outlier += cb * scb / 127.0 * x[j];
                    } else {
                        intDot += (long) cb * (long) Math.rint(x[j] * 127f / absmax);
                    }
                    exact += (double) w[r * cols + j] * x[j];
                }
                double expected = intDot * (absmax * scb / (127.0 * 127.0)) + outlier;
                assertThat((double) out[r]).isCloseTo(expected, within(1e-4 * (1 + Math.abs(expected))));
                assertThat((double) out[r]).isCloseTo(exact, within(0.02 * (1 + Math.abs(exact))));
            }
        }
    }

    /** dot/matVec against the dequantized rows, with odd row lengths so blocks and rows start on low nibbles too. */
    @org.junit.jupiter.params.ParameterizedTest
    @org.junit.jupiter.params.provider.CsvSource({"nf4, 7, 45", "fp4, 5, 172", "nf4, 3, 64", "nf4, 9, 33"})
    void dotMatchesTheDequantizedRows(String type, int rows, int cols) {
        Random rnd = new Random(rows * 100L + cols);
        float[] w = random(rnd, rows * cols);
        try (java.lang.foreign.Arena arena = java.lang.foreign.Arena.ofConfined()) {
            Blockwise4bitMatrix m = BnbQuantizer.fourBit(w, rows, cols, BnbOptions.fourBit(type, false, 64), null, arena);
            float[] x = random(rnd, cols + 3);
            float[] out = new float[rows];
            float[] x0 = java.util.Arrays.copyOf(x, cols);
            m.matVec(x0, out, 0, rows);
            float[] row = new float[cols];
            for (int r = 0; r < rows; r++) {
                m.dequantizeRow(r, row, 0);
                double expected = 0;
                double mag = 0;
                for (int j = 0; j < cols; j++) {
                    expected += (double) row[j] * x[j];
                    mag += Math.abs((double) row[j] * x[j]);
                }
                org.assertj.core.api.Assertions.assertThat((double) m.dot(r, x, 0)).as("%s row %d", type, r)
                        .isCloseTo(expected, org.assertj.core.api.Assertions.within(1e-5 * mag + 1e-6));
                org.assertj.core.api.Assertions.assertThat((double) out[r]).isCloseTo(expected, org.assertj.core.api.Assertions.within(1e-5 * mag + 1e-6));
            }
        }
    }
}
