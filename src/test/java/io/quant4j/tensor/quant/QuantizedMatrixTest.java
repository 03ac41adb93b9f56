package io.quant4j.tensor.quant;

import io.quant4j.tensor.GgmlType;
import io.quant4j.tensor.WeightMatrix;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

class QuantizedMatrixTest {
    private static final int ROWS = 13;
    private static final int COLS = 768;

    /** Random quantized matrix (heavy-tailed rows, one zero row) in an off-heap segment, as a mapped file gives. */
    static WeightMatrix randomMatrix(GgmlType type, Random r, Arena arena) {
        float[] w = new float[ROWS * COLS];
        for (int i = 0; i < w.length; i++) {
            w[i] = (float) (r.nextGaussian() * Math.exp(0.5 * r.nextGaussian()));
        }
        java.util.Arrays.fill(w, 3 * COLS, 4 * COLS, 0f);
        MemorySegment seg = arena.allocate(type.byteSize(COLS) * ROWS);
        RowCodecs.quantizeRows(type, w, ROWS, COLS, seg, null);
        return WeightMatrix.of(type, seg, ROWS, COLS);
    }

    static float[] randomVector(Random r, int n) {
        float[] x = new float[n];
        for (int i = 0; i < n; i++) {
            x[i] = (float) r.nextGaussian();
        }
        return x;
    }

    @ParameterizedTest
    @EnumSource(names = {"Q4_0", "Q4_1", "Q5_0", "Q5_1", "Q8_0", "Q2_K", "Q3_K", "Q4_K", "Q5_K", "Q6_K", "IQ4_NL"})
    void dotMatchesDoublePrecisionDotOfDequantizedRow(GgmlType type) {
        Random r = new Random(type.id);
        try (Arena arena = Arena.ofConfined()) {
            WeightMatrix m = randomMatrix(type, r, arena);
            assertThat(m).isInstanceOf(QuantizedMatrix.class);
            assertThat(m.type()).isEqualTo(type);
            int xOffset = 5;
            float[] x = randomVector(r, COLS + xOffset);
            float[] row = new float[COLS];
            for (int i = 0; i < ROWS; i++) {
                m.dequantizeRow(i, row, 0);
                double ref = 0;
                double mag = 0;
                for (int j = 0; j < COLS; j++) {
                    ref += (double) row[j] * x[xOffset + j];
                    mag += Math.abs((double) row[j] * x[xOffset + j]);
                }
                // float accumulation over 768 terms: allow ~16 ulps of the magnitude sum.
                double tol = 1e-6 * mag + 1e-30;
                assertThat((double) m.dot(i, x, xOffset)).as("dot row %d", i).isCloseTo(ref, within(tol));
                assertThat((double) ((QuantizedMatrix) m).dotScalar(i, x, xOffset)).as("dotScalar row %d", i)
                        .isCloseTo(ref, within(tol));
            }
        }
    }

    @ParameterizedTest
    @EnumSource(names = {"Q4_0", "Q4_1", "Q5_0", "Q5_1", "Q8_0", "Q2_K", "Q3_K", "Q4_K", "Q5_K", "Q6_K", "IQ4_NL"})
    void dequantizeRowIsTheCodecsDequantization(GgmlType type) {
        Random r = new Random(100 + type.id);
        try (Arena arena = Arena.ofConfined()) {
            WeightMatrix m = randomMatrix(type, r, arena);
            float[] viaMatrix = new float[COLS + 3];
            float[] viaCodec = new float[COLS + 3];
            for (int i = 0; i < ROWS; i++) {
                m.dequantizeRow(i, viaMatrix, 3);
                RowCodecs.forType(type).dequantizeRow(m.data(), i * m.rowBytes(), viaCodec, 3, COLS);
                assertThat(viaMatrix).containsExactly(viaCodec);
            }
            m.dequantizeRow(3, viaMatrix, 0);
            for (int j = 0; j < COLS; j++) {
                assertThat(Math.abs(viaMatrix[j])).isZero();
            }
        }
    }

    /** Vector kernels against the scalar reference, on many random rows and offsets. */
    @ParameterizedTest
    @EnumSource(names = {"Q8_0", "Q4_0"})
    void vectorKernelAgreesWithScalarReference(GgmlType type) {
        Random r = new Random(42);
        try (Arena arena = Arena.ofConfined()) {
            for (int trial = 0; trial < 20; trial++) {
                WeightMatrix m = randomMatrix(type, r, arena);
                QuantizedMatrix q = (QuantizedMatrix) m;
                int xOffset = r.nextInt(40);
                float[] x = randomVector(r, COLS + xOffset);
                float[] row = new float[COLS];
                for (int i = 0; i < ROWS; i++) {
                    m.dequantizeRow(i, row, 0);
                    double mag = 0;
                    for (int j = 0; j < COLS; j++) {
                        mag += Math.abs((double) row[j] * x[xOffset + j]);
                    }
                    assertThat((double) m.dot(i, x, xOffset)).isCloseTo(q.dotScalar(i, x, xOffset), within(2e-6 * mag + 1e-30));
                }
            }
        }
    }

    @Test
    void vectorKernelsHandleExtremeNibblesAndBytes() {
        // Q4_0 levels 0 and 15 and Q8_0 ±127 exercise the sign handling of the nibble shift and byte convert.
        float[] w = new float[64];
        for (int j = 0; j < 64; j++) {
            w[j] = (j % 2 == 0 ? -8f : 7f) * (1 + j / 32);
        }
        float[] x = new float[64];
        java.util.Arrays.fill(x, 1f);
        for (GgmlType type : new GgmlType[] {GgmlType.Q4_0, GgmlType.Q8_0}) {
            MemorySegment seg = MemorySegment.ofArray(new byte[(int) type.byteSize(64)]);
            RowCodecs.quantizeRows(type, w, 1, 64, seg, null);
            QuantizedMatrix m = (QuantizedMatrix) WeightMatrix.of(type, seg, 1, 64);
            assertThat(m.dot(0, x, 0)).as(type.name()).isEqualTo(m.dotScalar(0, x, 0));
        }
    }

    @Test
    void matVecUsesEveryRow() {
        Random r = new Random(9);
        try (Arena arena = Arena.ofConfined()) {
            // Q5_K multiplies float activations in matVec too: exactly dot's result. Q6_K goes through the int8
            // activations (IntDotKernels): dot's float result within the activation rounding (checked tightly in
            // IntDotKernelsTest); a row computed alone must equal its value in the whole product.
            for (GgmlType type : new GgmlType[] {GgmlType.Q5_K, GgmlType.Q6_K}) {
                WeightMatrix m = randomMatrix(type, r, arena);
                float[] x = randomVector(r, COLS);
                float[] out = new float[ROWS];
                m.matVec(x, out, 0, ROWS);
                float[] row = new float[COLS];
                for (int i = 0; i < ROWS; i++) {
                    float[] alone = new float[ROWS];
                    m.matVec(x, alone, i, i + 1);
                    assertThat(out[i]).as("%s row %d", type, i).isEqualTo(alone[i]);
                    if (type == GgmlType.Q5_K || !QuantizedMatrix.Q8_ACTIVATIONS) {
                        assertThat(out[i]).as("%s row %d", type, i).isEqualTo(m.dot(i, x, 0));
                    } else {
                        m.dequantizeRow(i, row, 0);
                        double mag = 0;
                        for (int j = 0; j < COLS; j++) {
                            mag += Math.abs(row[j] * x[j]);
                        }
                        assertThat((double) out[i]).as("%s row %d", type, i).isCloseTo(m.dot(i, x, 0), org.assertj.core.api.Assertions.within(0.02 * mag));
                    }
                }
            }
        }
    }

    @Test
    void inputVersionsShareTheQuantizedInputOnlyWithinOneProduct() {
        Random r = new Random(11);
        try (Arena arena = Arena.ofConfined()) {
            WeightMatrix m = randomMatrix(GgmlType.Q4_K, r, arena);
            float[] x = randomVector(r, COLS);
            float[] whole = new float[ROWS];
            m.matVec(x, whole, 0, ROWS);
            float[] parts = new float[ROWS];
            m.matVec(x, parts, 0, ROWS / 2, 41);
            m.matVec(x, parts, ROWS / 2, ROWS, 41);
            assertThat(parts).containsExactly(whole);
            // the same array with new contents under a new version: quantized again
            for (int j = 0; j < COLS; j++) {
                x[j] = -2 * x[j];
            }
            float[] fresh = new float[ROWS];
            m.matVec(x, fresh, 0, ROWS);
            float[] versioned = new float[ROWS];
            m.matVec(x, versioned, 0, ROWS, 42);
            assertThat(versioned).containsExactly(fresh);
            assertThat(versioned).isNotEqualTo(whole);
        }
    }
}
