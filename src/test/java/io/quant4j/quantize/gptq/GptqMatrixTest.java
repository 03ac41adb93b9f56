package io.quant4j.quantize.gptq;

import io.quant4j.tensor.Fp16;
import io.quant4j.tensor.gptq.GptqMatrix;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.lang.foreign.Arena;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

/** The packed-weight kernel against the unpacked layer, for every width, odd shapes, any g_idx order, v1 and v2 zeros. */
class GptqMatrixTest {

    static QuantizedLinear random(Random rnd, int rows, int cols, int bits, int groupSize, boolean shuffledGroups, boolean v1) {
        int groups = Math.ceilDiv(cols, groupSize);
        int maxq = (1 << bits) - 1;
        byte[] codes = new byte[rows * cols];
        for (int i = 0; i < codes.length; i++) {
            codes[i] = (byte) rnd.nextInt(maxq + 1);
        }
        short[] scales = new short[groups * rows];
        int[] zeros = new int[groups * rows];
        for (int i = 0; i < scales.length; i++) {
            scales[i] = Fp16.fromFloat((float) (0.001 + rnd.nextDouble() * 0.05));
            zeros[i] = (v1 ? 1 : 0) + rnd.nextInt(maxq + 1 - (v1 ? 1 : 0));
        }
        int[] gIdx = new int[cols];
        for (int k = 0; k < cols; k++) {
            gIdx[k] = k / groupSize;
        }
        if (shuffledGroups) {
            for (int k = cols - 1; k > 0; k--) {
                int j = rnd.nextInt(k + 1);
                int t = gIdx[k];
                gIdx[k] = gIdx[j];
                gIdx[j] = t;
            }
        }
        return new QuantizedLinear(rows, cols, bits, groupSize, groups, codes, scales, zeros, gIdx);
    }

    @ParameterizedTest
    @CsvSource({
            "2, 45, 96, 32, false, true",
            "3, 45, 96, 32, true, true",
            "3, 64, 172, 64, false, false",
            "4, 45, 96, 32, true, false",
            "4, 172, 64, 64, false, true",
            "4, 40, 256, 128, true, true",
            "8, 45, 172, 128, true, false",
            "8, 33, 64, 64, false, true"})
    void packedKernelMatchesTheUnpackedLayer(int bits, int rows, int cols, int groupSize, boolean shuffled, boolean v1) {
        Random rnd = new Random(bits * 1000L + rows + cols);
        QuantizedLinear q = random(rnd, rows, cols, bits, groupSize, shuffled, v1);
        try (Arena arena = Arena.ofConfined()) {
            GptqMatrix m = GptqPacker.pack(q, v1, arena).matrix(arena);
            assertThat(m.rows()).isEqualTo(rows);
            assertThat(m.cols()).isEqualTo(cols);
            float[] x = new float[cols];
            for (int k = 0; k < cols; k++) {
                x[k] = (float) rnd.nextGaussian();
            }
            float[] out = new float[rows];
            m.matVec(x, out, 0, rows);
            float[] split = new float[rows];
            m.matVec(x, split, 0, 13);
            m.matVec(x, split, 13, rows);
            float[] row = new float[cols];
            for (int r = 0; r < rows; r++) {
                m.dequantizeRow(r, row, 0);
                double expected = 0;
                for (int k = 0; k < cols; k++) {
                    assertThat(row[k]).isEqualTo(q.value(r, k));
                    expected += (double) q.value(r, k) * x[k];
                }
                double tol = 1e-4 * (1 + Math.abs(expected));
                assertThat((double) out[r]).as("row %d", r).isCloseTo(expected, within(tol * 10));
                assertThat((double) split[r]).isCloseTo(expected, within(tol * 10));
                assertThat((double) m.dot(r, x, 0)).isCloseTo(expected, within(tol * 10));
            }
            // a batch of three tokens, rows split in two ranges, into a strided output
            int n = 3;
            float[] xs = new float[n * cols];
            for (int i = 0; i < xs.length; i++) {
                xs[i] = (float) rnd.nextGaussian();
            }
            int stride = rows + 5;
            float[] batch = new float[n * stride];
            m.matMul(xs, n, batch, stride, 0, 11);
            m.matMul(xs, n, batch, stride, 11, rows);
            for (int t = 0; t < n; t++) {
                for (int r = 0; r < rows; r++) {
                    double expected = 0;
                    for (int k = 0; k < cols; k++) {
                        expected += (double) q.value(r, k) * xs[t * cols + k];
                    }
                    assertThat((double) batch[t * stride + r]).as("token %d row %d", t, r)
                            .isCloseTo(expected, within(1e-3 * (1 + Math.abs(expected))));
                }
            }
        }
    }
}
