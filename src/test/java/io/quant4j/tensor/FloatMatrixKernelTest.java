package io.quant4j.tensor;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

/** F32, F16 and BF16 Vector API kernels against their scalar references, including odd lengths and special values. */
class FloatMatrixKernelTest {
    private static final ValueLayout.OfShort I16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private static WeightMatrix random(GgmlType type, Random r, int rows, int cols, boolean specials) {
        MemorySegment seg = MemorySegment.ofArray(new byte[(int) type.byteSize((long) rows * cols)]);
        for (int i = 0; i < rows * cols; i++) {
            float v = (float) (r.nextGaussian() * Math.exp(3 * r.nextGaussian()));
            if (type == GgmlType.F32) {
                seg.set(F32, 4L * i, v);
            } else if (type == GgmlType.F16) {
                short h = Float.floatToFloat16(v);
                if (specials) {
                    // every bit pattern: subnormals, ±0, ±inf, NaNs with payloads
                    h = (short) r.nextInt(1 << 16);
                }
                seg.set(I16, 2L * i, h);
            } else {
                short b = Fp16.floatToBf16(v);
                if (specials) {
                    b = (short) r.nextInt(1 << 16);
                }
                seg.set(I16, 2L * i, b);
            }
        }
        return WeightMatrix.of(type, seg, rows, cols);
    }

    @ParameterizedTest
    @EnumSource(names = {"F32", "F16", "BF16"})
    void dotAgreesWithScalarReference(GgmlType type) {
        Random r = new Random(type.id);
        for (int cols : new int[] {1, 7, 16, 77, 1000}) {
            int rows = 11;
            WeightMatrix m = random(type, r, rows, cols, false);
            float[] x = new float[cols + 3];
            for (int j = 0; j < x.length; j++) {
                x[j] = (float) r.nextGaussian();
            }
            float[] row = new float[cols];
            float[] out = new float[rows];
            float[] x0 = java.util.Arrays.copyOfRange(x, 3, x.length);
            m.matVec(x0, out, 0, rows);
            for (int i = 0; i < rows; i++) {
                m.dequantizeRow(i, row, 0);
                double ref = 0;
                double mag = 0;
                for (int j = 0; j < cols; j++) {
                    ref += (double) row[j] * x[3 + j];
                    mag += Math.abs((double) row[j] * x[3 + j]);
                }
                float scalar = switch (type) {
                    case F32 -> F32Matrix.dotScalar(m.data(), i * m.rowBytes(), x, 3, cols);
                    case F16 -> F16Matrix.dotScalar(m.data(), i * m.rowBytes(), x, 3, cols);
                    default -> Bf16Matrix.dotScalar(m.data(), i * m.rowBytes(), x, 3, cols);
                };
                double tol = 2e-6 * mag + 1e-35;
                assertThat((double) scalar).isCloseTo(ref, within(tol));
                assertThat((double) m.dot(i, x, 3)).as("%s cols %d row %d", type, cols, i).isCloseTo(ref, within(tol));
                assertThat((double) out[i]).isCloseTo(ref, within(tol));
            }
        }
    }

    /** Every half / bfloat16 bit pattern widens exactly as Float.float16ToFloat / the shift does, NaN payloads included. */
    @ParameterizedTest
    @EnumSource(names = {"F16", "BF16"})
    void dequantizeRowWidensEveryBitPatternExactly(GgmlType type) {
        int cols = 1 << 16;
        MemorySegment seg = MemorySegment.ofArray(new byte[2 * cols + 2]);
        for (int i = 0; i < cols; i++) {
            seg.set(I16, 2L * i, (short) i);
        }
        WeightMatrix m = WeightMatrix.of(type, seg, 1, cols);
        float[] out = new float[cols];
        m.dequantizeRow(0, out, 0);
        for (int i = 0; i < cols; i++) {
            float expected = type == GgmlType.F16 ? Float.float16ToFloat((short) i) : Fp16.bf16ToFloat((short) i);
            assertThat(Float.floatToRawIntBits(out[i])).as("pattern %04x", i).isEqualTo(Float.floatToRawIntBits(expected));
        }
    }

    @ParameterizedTest
    @EnumSource(names = {"F16", "BF16"})
    void specialValuesPropagateAsInTheScalarPath(GgmlType type) {
        Random r = new Random(5);
        WeightMatrix m = random(type, r, 5, 64, true);
        float[] x = new float[64];
        for (int j = 0; j < 64; j++) {
            x[j] = (float) r.nextGaussian();
        }
        for (int i = 0; i < 5; i++) {
            float scalar = type == GgmlType.F16 ? F16Matrix.dotScalar(m.data(), i * m.rowBytes(), x, 0, 64)
                    : Bf16Matrix.dotScalar(m.data(), i * m.rowBytes(), x, 0, 64);
            float vector = m.dot(i, x, 0);
            if (Float.isNaN(scalar) || Float.isInfinite(scalar)) {
                assertThat(Float.isNaN(vector) || vector == scalar).as("row %d: %s vs %s", i, vector, scalar).isTrue();
            } else {
                assertThat(Float.isFinite(vector)).isTrue();
            }
        }
    }
}
