package io.quant4j.eval;

import io.quant4j.model.InferenceSession;
import io.quant4j.model.Llama;
import io.quant4j.model.LlamaSession;
import io.quant4j.model.ModelLoader;
import io.quant4j.model.ModelWeights;
import io.quant4j.testing.Shared;
import io.quant4j.tokenizer.Tokenizer;
import io.quant4j.tokenizer.Tokenizers;
import io.quant4j.format.gguf.GgufFile;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

/** Both protocols give the same perplexity through the batched forwardEach as token by token (within 1e-4 relative). */
class BatchedPerplexityTest {
    /** Hides the session's batched forwardEach: the interface default feeds one token at a time. */
    private record OneByOne(LlamaSession s) implements InferenceSession {
        public float[] forward(int token) {
            return s.forward(token);
        }

        public int position() {
            return s.position();
        }

        public int contextLength() {
            return s.contextLength();
        }

        public int vocabSize() {
            return s.vocabSize();
        }

        public InferenceSession copy() {
            return new OneByOne(s.copy());
        }
    }

    @Test
    void batchedAndStepwiseAgree() throws Exception {
        Path model = Shared.file("models/stories260K/stories260K.gguf");
        String text = Files.readString(Shared.file("data/TinyStories-sample-30KB.txt"));
        try (ModelWeights w = ModelLoader.loadWeights(model); GgufFile gguf = GgufFile.open(model)) {
            Tokenizer tok = Tokenizers.fromGguf(gguf);
            int[] tokens = tok.encode(text, true, false);
            Llama llama = new Llama(w.config(), w.weights());
            LlamaSession s = llama.newSession(256);
            PerplexityResult batched = LlamaCppPerplexity.evaluate(() -> rewound(s), tokens, 256, 8, tok.bos(), null);
            PerplexityResult stepwise = LlamaCppPerplexity.evaluate(() -> new OneByOne(rewound(s)), tokens, 256, 8, tok.bos(), null);
            assertThat(batched.ppl()).isCloseTo(stepwise.ppl(), within(1e-4 * stepwise.ppl()));
            PerplexityResult gb = GptqPerplexity.evaluate(() -> rewound(s), tokens, 256, 8, null);
            PerplexityResult gs = GptqPerplexity.evaluate(() -> new OneByOne(rewound(s)), tokens, 256, 8, null);
            assertThat(gb.ppl()).isCloseTo(gs.ppl(), within(1e-4 * gs.ppl()));
        }
    }

    private static LlamaSession rewound(LlamaSession s) {
        s.rewind(0);
        return s;
    }
}
