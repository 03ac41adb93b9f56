package io.quant4j.quantize.gptq;

import io.quant4j.eval.GptqDatasets;
import io.quant4j.runtime.LoadedModel;
import io.quant4j.testing.Shared;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.util.LinkedHashMap;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** Keeping intermediates between true-sequential passes changes no result: the same codes as recomputing them. */
class WindowCacheTest {

    @Test
    void cachedPassesGiveTheSameCodesAsRecomputedOnes() throws Exception {
        Map<String, byte[]> none = run(0);
        Map<String, byte[]> all = run(Long.MAX_VALUE);
        assertThat(all.keySet()).isEqualTo(none.keySet()).hasSize(35);
        for (String k : none.keySet()) {
            assertThat(all.get(k)).as(k).isEqualTo(none.get(k));
        }
    }

    @Test
    void planKeepsWhatFitsInOrder() {
        // 2 windows × 10 tokens: attention 4·2·10·8 = 640 B, residual 640 B, down's input 4·2·10·20 = 1600 B.
        assertThat(flags(WindowCache.plan(2, 10, 8, 8, 20, 2880)[0])).containsExactly(true, true, true);
        assertThat(flags(WindowCache.plan(2, 10, 8, 8, 20, 2879)[0])).containsExactly(true, true, false);
        assertThat(flags(WindowCache.plan(2, 10, 8, 8, 20, 1000)[0])).containsExactly(true, false, false);
        // A wider attention output (qDim 16: 1280 B) that does not fit leaves room for the residual.
        assertThat(flags(WindowCache.plan(2, 10, 16, 8, 20, 700)[0])).containsExactly(false, true, false);
        assertThat(flags(WindowCache.plan(2, 10, 8, 8, 20, 0)[0])).containsExactly(false, false, false);
    }

    private static boolean[] flags(WindowCache c) {
        return new boolean[]{c.keepAttention, c.keepResidual, c.keepMlpInput};
    }

    private static Map<String, byte[]> run(long cacheBytes) throws Exception {
        Map<String, byte[]> codes = new LinkedHashMap<>();
        try (LoadedModel model = LoadedModel.load(Shared.file("models/stories260K/hf"), null); Arena arena = Arena.ofShared()) {
            String text = GptqDatasets.calibrationText("c4", Shared.root().resolve("data"));
            CalibrationSet calib = CalibrationSet.of("c4", text, model.tokenizer(), 4, 128, 0);
            GptqQuantizer.quantize(model.weights(), calib, GptqOptions.gptq(4, 32), true, (l, p) -> true, arena,
                    new GptqQuantizer.Listener() {
                        @Override
                        public void moduleDone(int layer, Projection p, QuantizedLinear q, double loss, long nanos) {
                            byte[] b = new byte[q.rows() * q.cols()];
                            for (int r = 0; r < q.rows(); r++) {
                                for (int k = 0; k < q.cols(); k++) {
                                    b[r * q.cols() + k] = (byte) q.code(r, k);
                                }
                            }
                            codes.put(p.moduleName(layer), b);
                        }
                    }, cacheBytes);
        }
        return codes;
    }
}
