package io.quant4j.tensor.quant;

import io.quant4j.tensor.GgmlType;
import io.quant4j.tensor.WeightMatrix;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

/**
 * Every block type's Vector API kernels against their scalar references ({@link QuantizedMatrix#dotScalar},
 * {@link QuantizedMatrix#dequantizeRowScalar}) on random matrices with odd row and block counts, zero rows,
 * outlier rows, tiny and huge magnitudes, and activations with offsets.
 */
class KernelDifferentialTest {
    private static final String TYPES = "Q4_0|Q4_1|Q5_0|Q5_1|Q8_0|Q2_K|Q3_K|Q4_K|Q5_K|Q6_K|IQ4_NL";

    static float[] weights(Random r, int rows, int cols) {
        float[] w = new float[rows * cols];
        for (int i = 0; i < rows; i++) {
            int kind = i % 6;
            double scale = switch (kind) {
                case 0 -> 1;
                case 1 -> 1e-6;   // fp16 scales go subnormal
                case 2 -> 1e3;    // large, still finite in fp16 scales
                case 3 -> 0;      // zero row
                default -> Math.exp(2 * r.nextGaussian());
            };
            for (int j = 0; j < cols; j++) {
                double v = r.nextGaussian() * Math.exp(0.5 * r.nextGaussian()) * scale;
                if (kind == 4 && j % 97 == 5) {
                    v *= 300; // outliers
                }
                w[i * cols + j] = (float) v;
            }
        }
        return w;
    }

    private static WeightMatrix matrix(GgmlType type, float[] w, int rows, int cols, Arena arena) {
        MemorySegment seg = arena.allocate(type.byteSize(cols) * rows);
        RowCodecs.quantizeRows(type, w, rows, cols, seg, null);
        return WeightMatrix.of(type, seg, rows, cols);
    }

    @ParameterizedTest
    @EnumSource(mode = EnumSource.Mode.MATCH_ALL, names = TYPES)
    void dotAndMatVecAgreeWithScalarReference(GgmlType type) {
        Random r = new Random(1000 + type.id);
        // Odd block counts exercise the unrolled loops' tails; rows not a multiple of anything.
        int[] colsChoices = type.blockSize == 256 ? new int[] {256, 768, 1280} : new int[] {32, 96, 480, 2080};
        try (Arena arena = Arena.ofConfined()) {
            for (int cols : colsChoices) {
                int rows = 13;
                WeightMatrix m = matrix(type, weights(r, rows, cols), rows, cols, arena);
                QuantizedMatrix q = (QuantizedMatrix) m;
                for (int trial = 0; trial < 3; trial++) {
                    int xOffset = r.nextInt(9);
                    float[] x = new float[cols + xOffset];
                    double xs = trial == 0 ? 1 : trial == 1 ? 1e-4 : 3e3;
                    for (int j = 0; j < x.length; j++) {
                        x[j] = (float) (r.nextGaussian() * xs + (trial == 2 ? 5 * xs : 0));
                    }
                    float[] row = new float[cols];
                    float[] viaMatVec = new float[rows];
                    float[] x0 = java.util.Arrays.copyOfRange(x, xOffset, x.length);
                    m.matVec(x0, viaMatVec, 0, rows);
                    float[] intPath = null;
                    GgmlType layout = Q8Activations.layoutFor(type);
                    if (QuantizedMatrix.Q8_ACTIVATIONS && layout != null) {
                        Q8Activations a = new Q8Activations();
                        a.quantize(layout, x0, 0, cols);
                        intPath = new float[rows];
                        q.matVecQ8(a, intPath, 0, rows, false);
                    }
                    for (int i = 0; i < rows; i++) {
                        q.dequantizeRowScalar(i, row, 0);
                        double mag = 0;
                        for (int j = 0; j < cols; j++) {
                            mag += Math.abs((double) row[j] * x[xOffset + j]);
                        }
                        // Both sides accumulate in float in different orders, and the kernels apply level offsets and
                        // mins through block sums of x: Σ d·(q − 16)·x = d·(Σ q·x − 16·Σx) rounds relative to the
                        // unshifted Σ|q·x|, up to a few times mag when x has a large mean (trial 2). Hence ~250 ulps.
                        double tol = 1.6e-5 * mag + 1e-35;
                        float ref = q.dotScalar(i, x, xOffset);
                        assertThat((double) m.dot(i, x, xOffset)).as("%s cols %d row %d dot", type, cols, i).isCloseTo(ref, within(tol));
                        // matVec multiplies Q4_0/Q8_0/Q4_K/Q6_K rows with int8 activations: its reference is the scalar
                        // integer kernel (IntDotKernelsTest bounds that against the float reference).
                        float matVecRef = ref;
                        if (intPath != null) {
                            matVecRef = intPath[i];
                        }
                        assertThat((double) viaMatVec[i]).as("%s cols %d row %d matVec", type, cols, i).isCloseTo(matVecRef, within(tol));
                    }
                }
            }
        }
    }

    @ParameterizedTest
    @EnumSource(mode = EnumSource.Mode.MATCH_ALL, names = TYPES)
    void dequantizeRowIsBitExact(GgmlType type) {
        Random r = new Random(2000 + type.id);
        int cols = type.blockSize == 256 ? 768 : 96;
        int rows = 7;
        try (Arena arena = Arena.ofConfined()) {
            QuantizedMatrix q = (QuantizedMatrix) matrix(type, weights(r, rows, cols), rows, cols, arena);
            float[] a = new float[cols + 5];
            float[] b = new float[cols + 5];
            for (int i = 0; i < rows; i++) {
                q.dequantizeRow(i, a, 5);
                q.dequantizeRowScalar(i, b, 5);
                for (int j = 0; j < a.length; j++) {
                    assertThat(Float.floatToRawIntBits(a[j])).as("%s row %d col %d", type, i, j).isEqualTo(Float.floatToRawIntBits(b[j]));
                }
                // A range starting past the first block (Gemm's panels), into an offset buffer.
                int bs = type.blockSize;
                int count = cols - bs;
                float[] c = new float[count + 3];
                q.dequantizeRange(i, bs, count, c, 3);
                for (int j = 0; j < count; j++) {
                    assertThat(Float.floatToRawIntBits(c[3 + j])).as("%s row %d range col %d", type, i, bs + j)
                            .isEqualTo(Float.floatToRawIntBits(b[5 + bs + j]));
                }
            }
        }
    }
}
