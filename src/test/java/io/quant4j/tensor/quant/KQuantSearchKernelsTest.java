package io.quant4j.tensor.quant;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.lang.foreign.MemorySegment;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Differential tests: the k-quant rows quantized with the {@link KQuantSearchKernels} lanes must equal, byte for
 * byte, the rows of the scalar reference (which the golden tests tie to llama.cpp), on random rows mixing
 * sub-blocks built to reach every branch: flat and all-zero sub-blocks, all-positive and all-negative ones,
 * single outliers, values on the f16 grid (exact rounding ties), tiny and subnormal values, and blocks the
 * lanes must leave to the scalar path (NaN, infinities, huge values).
 */
class KQuantSearchKernelsTest {
    private static final int ROWS = 300;

    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void q4_KMatchesScalarReference(boolean imatrix) {
        check(Q4_K.INSTANCE, Q4_K::quantizeRowScalar, imatrix, 41);
    }

    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void q5_KMatchesScalarReference(boolean imatrix) {
        check(Q5_K.INSTANCE, Q5_K::quantizeRowScalar, imatrix, 51);
    }

    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void q6_KMatchesScalarReference(boolean imatrix) {
        check(Q6_K.INSTANCE, Q6_K::quantizeRowScalar, imatrix, 61);
    }

    interface Reference {
        void quantizeRow(float[] src, int srcOff, int n, MemorySegment dst, long dstOff, float[] importance);
    }

    private static void check(RowCodec codec, Reference scalar, boolean imatrix, long seed) {
        Random rnd = new Random(seed + (imatrix ? 1000 : 0));
        for (int r = 0; r < ROWS; r++) {
            int n = 256 * (1 + rnd.nextInt(6));
            int off = rnd.nextInt(3) * 16;
            float[] x = new float[off + n];
            fill(rnd, x, off, n);
            float[] importance = null;
            if (imatrix) {
                importance = new float[n];
                for (int i = 0; i < n; i++) {
                    importance[i] = rnd.nextInt(10) == 0 ? 0f : (float) Math.exp(rnd.nextGaussian() * 2);
                }
            }
            byte[] fast = new byte[(int) codec.rowBytes(n) + 5];
            byte[] ref = fast.clone();
            codec.quantizeRow(x, off, n, MemorySegment.ofArray(fast), 5, importance);
            scalar.quantizeRow(x, off, n, MemorySegment.ofArray(ref), 5, importance);
            assertThat(fast).as("%s row %d", codec.type(), r).isEqualTo(ref);
        }
    }

    /**
     * Sixteen-value pieces, each of one kind; now and then a whole super-block of one kind. Kinds 9-11 (NaN,
     * infinity, huge) send their super-block to the scalar path, so only about one super-block in ten gets any.
     */
    static void fill(Random rnd, float[] x, int off, int n) {
        for (int b = 0; b < n; b += 256) {
            int blockKind = rnd.nextInt(4) == 0 ? rnd.nextInt(16) : -1;
            boolean scalarOnly = rnd.nextInt(10) == 0;
            for (int p = b; p < b + 256; p += 16) {
                int kind = blockKind >= 0 ? blockKind : rnd.nextInt(16);
                while (!scalarOnly && kind >= 9 && kind <= 11) {
                    kind = rnd.nextInt(16);
                }
                fillPiece(rnd, x, off + p, kind);
            }
        }
    }

    private static void fillPiece(Random rnd, float[] x, int o, int kind) {
        float scale = (float) Math.pow(10, rnd.nextInt(12) - 8);
        float c = (float) rnd.nextGaussian() * scale;
        int outlier = rnd.nextInt(16);
        for (int j = 0; j < 16; j++) {
            x[o + j] = switch (kind) {
                case 0 -> 0f;
                case 1 -> c; // flat
                case 2 -> Math.abs((float) rnd.nextGaussian()) * scale; // all positive
                case 3 -> -Math.abs((float) rnd.nextGaussian()) * scale; // all negative
                case 4 -> j == outlier ? c * 50 : 0f;
                case 5 -> Float.float16ToFloat((short) (rnd.nextInt(0x7c00) | (rnd.nextBoolean() ? 0x8000 : 0)));
                case 6 -> (rnd.nextInt(9) - 4) * 0.25f; // few distinct values, many ties
                case 7 -> Float.MIN_VALUE * (rnd.nextInt(200) - 100);
                case 8 -> (float) rnd.nextGaussian() * 1e-30f;
                case 9 -> rnd.nextInt(200) == 0 ? Float.NaN : (float) rnd.nextGaussian();
                case 10 -> rnd.nextInt(200) == 0 ? Float.NEGATIVE_INFINITY : (float) rnd.nextGaussian();
                case 11 -> (float) rnd.nextGaussian() * (rnd.nextBoolean() ? 1e8f : 1e12f);
                case 12 -> j < 8 ? c : -c;
                default -> (float) rnd.nextGaussian() * scale;
            };
        }
    }
}
