package io.quant4j.quantize.gptq;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;

/** The tiled deferred update against the axpy-per-column reference: bit for bit, on random inputs. */
class LazyBatchUpdateTest {

    @ParameterizedTest
    @CsvSource({
            // rows, cols, i1, count, i2: full tiles; odd rows and a scalar tail; a batch narrower than the block
            "16, 300, 0, 128, 128",
            "32, 200, 0, 64, 64",
            "7, 333, 128, 128, 256",
            "5, 61, 10, 3, 13",
            "1, 40, 0, 8, 8",
    })
    void matchesTheReferenceBitForBit(int rows, int cols, int i1, int count, int i2) {
        Random rnd = new Random(rows * 31L + cols);
        int stride = count + 5;
        float[] w = new float[(rows + 2) * cols];
        float[] u = new float[cols * cols];
        float[] err = new float[rows * stride];
        for (int i = 0; i < w.length; i++) {
            w[i] = (float) rnd.nextGaussian();
        }
        for (int i = 0; i < u.length; i++) {
            u[i] = (float) rnd.nextGaussian();
        }
        for (int i = 0; i < err.length; i++) {
            err[i] = (float) rnd.nextGaussian();
        }
        float[] expected = w.clone();
        float[] got = w.clone();
        LazyBatchUpdate.applyReference(expected, cols, 1, rows, err, stride, count, u, i1, i2);
        LazyBatchUpdate.apply(got, cols, 1, rows, err, stride, count, u, i1, i2);
        assertThat(got).isEqualTo(expected);
        assertThat(got).isNotEqualTo(w);
    }
}
