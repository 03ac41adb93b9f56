package io.quant4j.model;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

/**
 * The vectorized attention (F32 and F16 caches) against its scalar references on random heads. stories260K's heads
 * (8 wide) take the scalar path by design ({@link Attention#MIN_VECTOR_HEAD_DIM}), so the model-level fast-vs-scalar
 * test does not reach these kernels; this one does.
 */
class AttentionTest {

    @ParameterizedTest
    @CsvSource({"32,1", "32,7", "64,33", "64,200", "128,65", "8,40"})
    void vectorAttentionMatchesScalarReference(int headDim, int len) {
        Random r = new Random(headDim * 1000L + len);
        int kvDim = 2 * headDim;
        int kvOff = headDim; // the second KV head
        float[] q = new float[headDim + 3];
        float[] kc = new float[len * kvDim];
        float[] vc = new float[len * kvDim];
        short[] kc16 = new short[kc.length];
        short[] vc16 = new short[vc.length];
        for (int i = 0; i < q.length; i++) {
            q[i] = (float) r.nextGaussian();
        }
        for (int i = 0; i < kc.length; i++) {
            kc[i] = (float) (2 * r.nextGaussian());
            vc[i] = (float) r.nextGaussian();
            kc16[i] = Float.floatToFloat16(kc[i]);
            vc16[i] = Float.floatToFloat16(vc[i]);
        }
        float scale = (float) (1 / Math.sqrt(headDim));
        float[] att = new float[len];
        float[] ref = new float[headDim + 5];
        float[] out = new float[headDim + 5];
        Attention.attendScalar(q, 3, kc, vc, kvOff, kvDim, len, headDim, scale, att, ref, 5);
        Attention.attendF32(q, 3, kc, vc, kvOff, kvDim, len, headDim, scale, att, out, 5);
        for (int d = 0; d < headDim; d++) {
            assertThat(out[5 + d]).as("F32 d %d", d).isCloseTo(ref[5 + d], within(2e-5f));
        }
        Attention.attendScalarF16(q, 3, kc16, vc16, kvOff, kvDim, len, headDim, scale, att, ref, 5);
        Attention.attendF16(q, 3, kc16, vc16, kvOff, kvDim, len, headDim, scale, att, out, 5);
        for (int d = 0; d < headDim; d++) {
            assertThat(out[5 + d]).as("F16 d %d", d).isCloseTo(ref[5 + d], within(2e-5f));
        }
    }
}
