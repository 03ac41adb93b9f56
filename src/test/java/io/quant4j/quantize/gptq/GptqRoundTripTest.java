package io.quant4j.quantize.gptq;

import io.quant4j.eval.GptqDatasets;
import io.quant4j.model.Llama;
import io.quant4j.model.LlamaSession;
import io.quant4j.model.LlamaWeights;
import io.quant4j.runtime.LoadedModel;
import io.quant4j.tensor.Fp16;
import io.quant4j.tensor.GgmlType;
import io.quant4j.tensor.WeightMatrix;
import io.quant4j.testing.Shared;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Write → load: a checkpoint written from stories260K (q/k rows turned to Hugging Face order on the way out and back
 * on the way in, packed kernels at run time) gives the logits of a float model holding the quantizer's own weights.
 */
class GptqRoundTripTest {
    @TempDir
    Path tmp;

    @ParameterizedTest
    @CsvSource({
            "GPTQ, 4, 64, false, true, true",
            "GPTQ, 3, 32, true, true, true",
            "GPTQ, 8, -1, true, false, false",
            "RTN, 2, 32, false, true, true"})
    void writtenCheckpointGivesTheQuantizedModelsLogits(GptqOptions.Method method, int bits, int groupSize, boolean actOrder,
                                                        boolean sym, boolean v1) throws IOException {
        Path src = Shared.file("models/stories260K/hf");
        Path out = tmp.resolve("ckpt");
        GptqOptions o = GptqOptions.gptq(bits, groupSize).withActOrder(actOrder).withSym(sym).withMethod(method);
        Map<String, QuantizedLinear> produced = new HashMap<>();
        int[] prompt;
        float[][] expected;
        try (LoadedModel model = LoadedModel.load(src, null); Arena arena = Arena.ofShared()) {
            String text = GptqDatasets.calibrationText("c4", Shared.root().resolve("data"));
            CalibrationSet calib = CalibrationSet.of("c4", text, model.tokenizer(), 8, 128, 0);
            GptqQuantizer.Result r = GptqQuantizer.quantize(model.weights(), calib, o, v1, (l, p) -> true, arena,
                    new GptqQuantizer.Listener() {
                        @Override
                        public void moduleDone(int layer, Projection p, QuantizedLinear q, double loss, long nanos) {
                            produced.put(p.moduleName(layer), q);
                        }
                    });
            GptqCheckpointWriter.write(out, model.weights(), src, model.tokenizer(), r, new GptqCheckpointWriter.Calibration("c4", 8, 128));
            prompt = model.tokenizer().encode("Once upon a time, there was a little dog named Max.", true, false);
            expected = logits(new Llama(model.weights().config(), reference(model.weights().weights(), produced, arena)), prompt);
        }
        try (LoadedModel loaded = LoadedModel.load(out, null)) {
            assertThat(loaded.weights().format()).startsWith("GPTQ " + bits + "-bit");
            assertThat(loaded.tokenizer().encode("Once upon a time, there was a little dog named Max.", true, false)).isEqualTo(prompt);
            float[][] actual = logits(loaded.llama(), prompt);
            for (int t = 0; t < prompt.length; t++) {
                float max = 0;
                for (float v : expected[t]) {
                    max = Math.max(max, Math.abs(v));
                }
                for (int i = 0; i < expected[t].length; i++) {
                    assertThat(actual[t][i]).as("position %d logit %d", t, i).isCloseTo(expected[t][i],
                            org.assertj.core.api.Assertions.within(2e-4f * max));
                }
            }
        }
    }

    static float[][] logits(Llama llama, int[] prompt) {
        LlamaSession s = llama.newSession(prompt.length);
        float[][] out = new float[prompt.length][];
        for (int t = 0; t < prompt.length; t++) {
            out[t] = s.forward(prompt[t]).clone();
        }
        return out;
    }

    /** The source model with the quantizer's weights (quant4j row order) and fp16 rounding of everything else, as F32. */
    static LlamaWeights reference(LlamaWeights w, Map<String, QuantizedLinear> q, Arena arena) {
        List<LlamaWeights.Layer> layers = new ArrayList<>();
        for (int l = 0; l < w.layers().size(); l++) {
            LlamaWeights.Layer layer = w.layers().get(l);
            Map<Projection, WeightMatrix> m = new EnumMap<>(Projection.class);
            for (Projection p : Projection.values()) {
                QuantizedLinear ql = q.get(p.moduleName(l));
                m.put(p, f32(ql.dequantize(), ql.rows(), ql.cols(), arena));
            }
            layers.add(new LlamaWeights.Layer(fp16(layer.attnNorm()), m.get(Projection.Q), m.get(Projection.K), m.get(Projection.V),
                    m.get(Projection.O), fp16(layer.ffnNorm()), m.get(Projection.GATE), m.get(Projection.DOWN), m.get(Projection.UP)));
        }
        float[] emb = fp16(FloatLayer.dequantize(w.tokenEmbedding()));
        WeightMatrix embedding = f32(emb, w.tokenEmbedding().rows(), w.tokenEmbedding().cols(), arena);
        return new LlamaWeights(embedding, layers, fp16(w.outputNorm()), embedding);
    }

    static float[] fp16(float[] v) {
        float[] out = new float[v.length];
        for (int i = 0; i < v.length; i++) {
            out[i] = Fp16.toFloat(Fp16.fromFloat(v[i]));
        }
        return out;
    }

    static WeightMatrix f32(float[] values, int rows, int cols, Arena arena) {
        MemorySegment seg = arena.allocate(4L * values.length, 64);
        MemorySegment.copy(values, 0, seg, ValueLayout.JAVA_FLOAT_UNALIGNED, 0, values.length);
        return WeightMatrix.of(GgmlType.F32, seg, rows, cols);
    }
}
