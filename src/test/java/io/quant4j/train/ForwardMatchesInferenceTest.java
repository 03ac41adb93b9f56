package io.quant4j.train;

import io.quant4j.model.Llama;
import io.quant4j.model.LlamaConfig;
import io.quant4j.model.LlamaSession;
import io.quant4j.model.LlamaWeights;
import io.quant4j.model.ModelLoader;
import io.quant4j.model.ModelWeights;
import io.quant4j.tensor.GgmlType;
import io.quant4j.testing.Shared;
import org.junit.jupiter.api.Test;

import java.util.Random;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;

/** The training forward computes the function the inference forward computes: same logits within 1e-4. */
class ForwardMatchesInferenceTest {

    static void assertSameLogits(LlamaConfig c, LlamaWeights w, int[] tokens) {
        TrainableLlama model = TrainableLlama.build(c, w, TrainingPlan.full(Set.of("lm_head.weight")), 0);
        double[] logits = model.logits(tokens);
        LlamaSession session = new Llama(c, w).newSession(tokens.length);
        int vocab = c.vocabSize();
        // The batched forward: float activations against the (dequantized) weights, as the training forward. Token by
        // token, Q8_0/Q4_0/Q4_K/Q6_K rows meet int8-quantized activations (llama.cpp's decode numerics), which
        // differ from the float function by the activation rounding.
        float[][] expected = new float[tokens.length][];
        session.forwardEach(tokens, (t, l) -> expected[t] = l.clone());
        for (int t = 0; t < tokens.length; t++) {
            for (int i = 0; i < vocab; i++) {
                double diff = Math.abs(logits[t * vocab + i] - expected[t][i]);
                if (diff > 1e-4) {
                    throw new AssertionError("position " + t + " logit " + i + ": " + logits[t * vocab + i] + " vs " + expected[t][i]);
                }
            }
        }
    }

    @Test
    void tinyRandomModels() {
        LlamaConfig c = TinyLlamas.config(32, 64, 2, 4, 2, 40);
        assertSameLogits(c, TinyLlamas.weights(c, 1), TinyLlamas.tokens(new Random(2), 20, 40));
        assertSameLogits(c, TinyLlamas.weights(c, 1, GgmlType.Q8_0), TinyLlamas.tokens(new Random(2), 20, 40));
        assertSameLogits(c, TinyLlamas.weights(c, 1, GgmlType.IQ4_NL), TinyLlamas.tokens(new Random(3), 20, 40));
    }

    @Test
    void stories260k() {
        try (ModelWeights m = ModelLoader.loadWeights(Shared.file("models/stories260K/stories260K.gguf"))) {
            int[] tokens = TinyLlamas.tokens(new Random(4), 64, 512);
            tokens[0] = 1;
            assertSameLogits(m.config(), m.weights(), tokens);
        }
    }
}
