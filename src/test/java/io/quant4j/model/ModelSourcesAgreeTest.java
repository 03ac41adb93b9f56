package io.quant4j.model;

import io.quant4j.testing.Shared;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

/** stories260K as GGUF (the reference: it reproduces llama.cpp), llama2.c .bin and a Hugging Face folder. */
class ModelSourcesAgreeTest {
    private static final int[] PROMPT = {1, 403, 407, 261, 378};
    private static final int CONTINUATION = 100;

    static ModelWeights gguf;
    static ModelWeights bin;
    static ModelWeights hf;

    @BeforeAll
    static void load() {
        gguf = ModelLoader.loadWeights(Shared.file("models/stories260K/stories260K.gguf"));
        bin = ModelLoader.loadWeights(Shared.file("models/stories260K/stories260K.bin"));
        hf = ModelLoader.loadWeights(Shared.file("models/stories260K/hf"));
    }

    @AfterAll
    static void close() {
        for (ModelWeights w : new ModelWeights[]{gguf, bin, hf}) {
            if (w != null) {
                w.close();
            }
        }
    }

    @Test
    void formatsAreDetected() {
        assertThat(gguf.format()).startsWith("GGUF");
        assertThat(bin.format()).isEqualTo("llama2.c");
        assertThat(hf.format()).isEqualTo("Hugging Face safetensors");
    }

    @Test
    void sameConfiguration() {
        LlamaConfig c = gguf.config();
        assertThat(c.dim()).isEqualTo(64);
        assertThat(c.nLayers()).isEqualTo(5);
        assertThat(c.nHeads()).isEqualTo(8);
        assertThat(c.nKvHeads()).isEqualTo(4);
        assertThat(c.hiddenDim()).isEqualTo(172);
        assertThat(c.vocabSize()).isEqualTo(512);
        assertThat(bin.config()).isEqualTo(c);
        assertThat(hf.config()).isEqualTo(c);
        assertThat(bin.weights().tiedEmbeddings()).isTrue();
        assertThat(hf.weights().tiedEmbeddings()).isTrue();
    }

    @Test
    void sameWeightsRowForRowWithQkInGgufLayout() {
        for (int l = 0; l < gguf.config().nLayers(); l++) {
            var ref = gguf.weights().layers().get(l);
            for (ModelWeights other : new ModelWeights[]{bin, hf}) {
                var layer = other.weights().layers().get(l);
                for (int m = 0; m < ref.matrices().size(); m++) {
                    assertSameRows(layer.matrices().get(m), ref.matrices().get(m), other.format() + " layer " + l + " matrix " + m);
                }
                assertThat(layer.attnNorm()).isEqualTo(ref.attnNorm());
                assertThat(layer.ffnNorm()).isEqualTo(ref.ffnNorm());
            }
        }
        assertSameRows(hf.weights().tokenEmbedding(), gguf.weights().tokenEmbedding(), "HF embedding");
        assertThat(hf.weights().outputNorm()).isEqualTo(gguf.weights().outputNorm());
    }

    @Test
    void hfStoresQkInRotateHalfOrderSoThePermutationIsNeeded() {
        try (var st = io.quant4j.format.safetensors.SafetensorsFile.open(Shared.file("models/stories260K/hf/model.safetensors"))) {
            var raw = io.quant4j.tensor.WeightMatrix.of(io.quant4j.tensor.GgmlType.F32,
                    st.data("model.layers.0.self_attn.q_proj.weight"), 64, 64);
            float[] a = new float[64];
            float[] b = new float[64];
            // head 0, pair 0: GGUF rows 0 and 1 are HF rows 0 and headDim/2 = 4
            gguf.weights().layers().get(0).attnQ().dequantizeRow(1, a, 0);
            raw.dequantizeRow(1, b, 0);
            assertThat(b).isNotEqualTo(a);
            raw.dequantizeRow(4, b, 0);
            assertThat(b).isEqualTo(a);
        }
    }

    private static void assertSameRows(io.quant4j.tensor.WeightMatrix actual, io.quant4j.tensor.WeightMatrix expected, String what) {
        assertThat(actual.rows()).as(what).isEqualTo(expected.rows());
        assertThat(actual.cols()).as(what).isEqualTo(expected.cols());
        float[] a = new float[actual.cols()];
        float[] e = new float[expected.cols()];
        for (int r = 0; r < expected.rows(); r++) {
            actual.dequantizeRow(r, a, 0);
            expected.dequantizeRow(r, e, 0);
            if (!java.util.Arrays.equals(a, e)) {
                assertThat(a).as("%s row %d", what, r).isEqualTo(e);
            }
        }
    }

    @Test
    void sameLogitsForThePrompt() {
        LlamaSession ref = session(gguf);
        LlamaSession fromBin = session(bin);
        LlamaSession fromHf = session(hf);
        for (int token : PROMPT) {
            float[] expected = ref.forward(token).clone();
            float[] a = fromBin.forward(token);
            float[] b = fromHf.forward(token);
            assertClose(a, expected, "llama2.c logits after token " + token);
            assertClose(b, expected, "HF logits after token " + token);
        }
    }

    private static void assertClose(float[] actual, float[] expected, String what) {
        for (int i = 0; i < expected.length; i++) {
            if (!(Math.abs(actual[i] - expected[i]) <= 1e-4f)) {
                assertThat(actual[i]).as("%s, logit %d", what, i).isCloseTo(expected[i], within(1e-4f));
            }
        }
    }

    @Test
    void sameGreedyContinuation() {
        List<Integer> expected = greedy(gguf);
        assertThat(expected).hasSize(CONTINUATION);
        assertThat(greedy(bin)).isEqualTo(expected);
        assertThat(greedy(hf)).isEqualTo(expected);
    }

    private static LlamaSession session(ModelWeights w) {
        return new Llama(w.config(), w.weights()).newSession(PROMPT.length + CONTINUATION + 1);
    }

    private static List<Integer> greedy(ModelWeights w) {
        LlamaSession s = session(w);
        float[] logits = s.forward(PROMPT);
        List<Integer> out = new ArrayList<>();
        for (int i = 0; i < CONTINUATION; i++) {
            int next = argmax(logits);
            out.add(next);
            logits = s.forward(next);
        }
        return out;
    }

    private static int argmax(float[] v) {
        int best = 0;
        for (int i = 1; i < v.length; i++) {
            if (v[i] > v[best]) {
                best = i;
            }
        }
        return best;
    }
}
