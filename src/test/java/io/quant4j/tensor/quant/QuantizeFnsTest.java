package io.quant4j.tensor.quant;

import io.quant4j.tensor.GgmlType;
import io.quant4j.tensor.UnsupportedTensorTypeException;
import io.quant4j.tensor.WeightMatrix;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.lang.foreign.MemorySegment;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * llama.cpp's tests/test-quantize-fns.cpp, reproduced: 4096 values 0.1 + 2·cos(i + offset), quantized and
 * dequantized, must stay under its total-error limits (error = sqrt(Σ diff²)/n, as array_rmse computes it).
 */
class QuantizeFnsTest {
    static final int TEST_SIZE = 32 * 128;
    static final float MAX_QUANTIZATION_TOTAL_ERROR = 0.002f;
    static final float MAX_QUANTIZATION_TOTAL_ERROR_2BITS = 0.0075f;
    static final float MAX_QUANTIZATION_TOTAL_ERROR_3BITS = 0.0040f;
    static final float MAX_DOT_PRODUCT_ERROR = 0.02f;

    /** generate_data: dst[i] = 0.1 + 2*cosf(i + offset). */
    static float[] generateData(float offset, int n) {
        float[] dst = new float[n];
        for (int i = 0; i < n; i++) {
            dst[i] = (float) (0.1 + 2 * (float) Math.cos((float) i + offset));
        }
        return dst;
    }

    static float arrayRmse(float[] a, float[] b) {
        double sum = 0;
        for (int i = 0; i < a.length; i++) {
            double diff = a[i] - b[i];
            sum += diff * diff;
        }
        return (float) Math.sqrt(sum) / a.length;
    }

    static float maxError(GgmlType type) {
        return switch (type) {
            case Q2_K -> MAX_QUANTIZATION_TOTAL_ERROR_2BITS;
            case Q3_K -> MAX_QUANTIZATION_TOTAL_ERROR_3BITS;
            default -> MAX_QUANTIZATION_TOTAL_ERROR;
        };
    }

    static float[] roundTrip(GgmlType type, float[] x, float[] importance) {
        RowCodec codec = RowCodecs.forType(type);
        MemorySegment q = MemorySegment.ofArray(new byte[(int) type.byteSize(x.length)]);
        codec.quantizeRow(x, 0, x.length, q, 0, importance);
        float[] y = new float[x.length];
        codec.dequantizeRow(q, 0, y, 0, x.length);
        return y;
    }

    @ParameterizedTest
    @EnumSource(names = {"F16", "BF16", "Q4_0", "Q4_1", "Q5_0", "Q5_1", "Q8_0", "Q2_K", "Q3_K", "Q4_K", "Q5_K", "Q6_K", "Q8_K", "IQ4_NL"})
    void totalQuantizationErrorWithinGgmlLimits(GgmlType type) {
        float[] x = generateData(0.0f, TEST_SIZE);
        assertThat(arrayRmse(x, roundTrip(type, x, null))).isLessThan(maxError(type));
    }

    @ParameterizedTest
    @EnumSource(names = {"Q4_0", "Q4_1", "Q5_0", "Q5_1", "Q2_K", "Q3_K", "Q4_K", "Q5_K", "Q6_K", "IQ4_NL"})
    void imatrixPathWithinGgmlLimitsForUniformImportance(GgmlType type) {
        float[] x = generateData(0.0f, TEST_SIZE);
        float[] ones = new float[TEST_SIZE];
        java.util.Arrays.fill(ones, 1f);
        assertThat(arrayRmse(x, roundTrip(type, x, ones))).isLessThan(maxError(type));
    }

    /** test-quantize-fns' dot check, here on our matrix dot: |W·x − x0·x1| / n below 0.02. */
    @ParameterizedTest
    @EnumSource(names = {"Q4_0", "Q4_1", "Q5_0", "Q5_1", "Q8_0", "Q2_K", "Q3_K", "Q4_K", "Q5_K", "Q6_K", "IQ4_NL"})
    void dotProductErrorWithinGgmlLimit(GgmlType type) {
        float[] w = generateData(0.0f, TEST_SIZE);
        float[] x = generateData(1.0f, TEST_SIZE);
        MemorySegment q = MemorySegment.ofArray(new byte[(int) type.byteSize(TEST_SIZE)]);
        RowCodecs.forType(type).quantizeRow(w, 0, TEST_SIZE, q, 0, null);
        WeightMatrix m = WeightMatrix.of(type, q, 1, TEST_SIZE);
        double ref = 0;
        for (int i = 0; i < TEST_SIZE; i++) {
            ref += w[i] * x[i];
        }
        assertThat(Math.abs(m.dot(0, x, 0) - ref) / TEST_SIZE).isLessThan(MAX_DOT_PRODUCT_ERROR);
    }

    /** The imatrix variants must trade error towards important columns: weighted error clearly below the plain path. */
    @ParameterizedTest
    @EnumSource(names = {"Q4_0", "Q4_1", "Q5_0", "Q5_1", "Q2_K", "Q3_K", "Q4_K", "Q5_K", "Q6_K", "IQ4_NL"})
    void importanceLowersWeightedError(GgmlType type) {
        Random r = new Random(7);
        int n = 1024;
        float[] imp = new float[n];
        for (int i = 0; i < n; i++) {
            imp[i] = (float) Math.exp(2 * r.nextGaussian());
        }
        double plain = 0;
        double weighted = 0;
        for (int row = 0; row < 32; row++) {
            float[] x = new float[n];
            for (int i = 0; i < n; i++) {
                x[i] = (float) r.nextGaussian();
            }
            float[] yPlain = roundTrip(type, x, null);
            float[] yImat = roundTrip(type, x, imp);
            for (int i = 0; i < n; i++) {
                plain += imp[i] * sq(x[i] - yPlain[i]);
                weighted += imp[i] * sq(x[i] - yImat[i]);
            }
        }
        assertThat(weighted / plain).isLessThan(0.8);
    }

    @ParameterizedTest
    @EnumSource(names = {"Q8_0", "Q8_K"})
    void typesWithoutImatrixVariantIgnoreImportance(GgmlType type) {
        float[] x = generateData(0.3f, 512);
        float[] imp = new float[512];
        for (int i = 0; i < imp.length; i++) {
            imp[i] = i % 7 + 0.5f;
        }
        assertThat(roundTrip(type, x, imp)).containsExactly(roundTrip(type, x, null));
    }

    @ParameterizedTest
    @EnumSource(names = {"F16", "BF16", "Q4_0", "Q4_1", "Q5_0", "Q5_1", "Q8_0", "Q2_K", "Q3_K", "Q4_K", "Q5_K", "Q6_K", "Q8_K", "IQ4_NL"})
    void zeroRowRoundTripsToZero(GgmlType type) {
        float[] y = roundTrip(type, new float[512], null);
        for (float v : y) {
            assertThat(Math.abs(v)).isZero();
        }
    }

    @Test
    void q8_0RoundsHalfAwayFromZero() {
        // amax 127 gives d = 1 exactly, so x/d lands on the halves themselves.
        float[] x = new float[32];
        x[0] = 127f;
        x[1] = 2.5f;
        x[2] = -2.5f;
        x[3] = 0.5f;
        x[4] = -0.5f;
        float[] y = roundTrip(GgmlType.Q8_0, x, null);
        assertThat(new float[] {y[1], y[2], y[3], y[4]}).containsExactly(3f, -3f, 1f, -1f);
    }

    @Test
    void nearestIntRoundsHalfToEven() {
        assertThat(Bits.nearestInt(2.5f)).isEqualTo(2);
        assertThat(Bits.nearestInt(3.5f)).isEqualTo(4);
        assertThat(Bits.nearestInt(-2.5f)).isEqualTo(-2);
        assertThat(Bits.nearestInt(-0.4f)).isEqualTo(0);
        assertThat(Bits.nearestInt(1_000_000.49f)).isEqualTo(1_000_000);
    }

    @Test
    void fp16ConversionMatchesGgml() {
        assertThat(Bits.fp16(Float.intBitsToFloat(0x7fc01234))).isEqualTo((short) 0x7E00);
        assertThat(Bits.fp16(Float.intBitsToFloat(0xffa00001))).isEqualTo((short) 0xFE00);
        assertThat(Bits.fp16(65520f)).isEqualTo((short) 0x7C00);           // rounds up to infinity
        assertThat(Bits.fp16(1 + 0x1p-11f)).isEqualTo((short) 0x3C00);     // tie to even
        assertThat(Bits.fp16(0x1p-25f)).isEqualTo((short) 0);              // tie to even, subnormal
        assertThat(Bits.fp16(0x1.8p-25f)).isEqualTo((short) 1);
    }

    @Test
    void codecsCoverTheWritableTypes() {
        for (GgmlType t : GgmlType.values()) {
            boolean expected = switch (t) {
                case F32, F16, BF16, Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, Q2_K, Q3_K, Q4_K, Q5_K, Q6_K, Q8_K, IQ4_NL -> true;
                default -> false;
            };
            assertThat(RowCodecs.isSupported(t)).as(t.name()).isEqualTo(expected);
            if (expected) {
                assertThat(RowCodecs.forType(t).type()).isEqualTo(t);
            }
        }
        assertThatThrownBy(() -> RowCodecs.forType(GgmlType.IQ2_XXS)).isInstanceOf(UnsupportedTensorTypeException.class);
    }

    @Test
    void rejectsRowsThatAreNotWholeBlocks() {
        MemorySegment dst = MemorySegment.ofArray(new byte[1024]);
        assertThatThrownBy(() -> Q4_K.INSTANCE.quantizeRow(new float[300], 0, 300, dst, 0, null))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> Q4_0.INSTANCE.quantizeRow(new float[64], 0, 64, dst, 0, new float[32]))
                .isInstanceOf(IllegalArgumentException.class);
    }

    private static double sq(double v) {
        return v * v;
    }
}
