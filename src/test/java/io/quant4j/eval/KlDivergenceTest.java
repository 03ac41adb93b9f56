package io.quant4j.eval;

import io.quant4j.model.LlamaSession;
import io.quant4j.quantize.FileType;
import io.quant4j.quantize.GgufQuantizer;
import io.quant4j.quantize.QuantizeOptions;
import io.quant4j.runtime.LoadedModel;
import io.quant4j.testing.Shared;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

/** KL-divergence on stories260K: zero against itself, positive and ordered by bits for quantized copies. */
class KlDivergenceTest {
    private static final int CTX = 256;
    private static final int CHUNKS = 8;

    @TempDir
    static Path dir;
    static Path model;
    static Path base;
    static PerplexityResult basePpl;

    @BeforeAll
    static void writeBase() throws Exception {
        model = Shared.file("models/stories260K/stories260K.gguf");
        String text = Files.readString(Shared.file("data/TinyStories-sample-30KB.txt"), StandardCharsets.UTF_8);
        base = dir.resolve("base.kld");
        try (LoadedModel m = LoadedModel.load(model, null)) {
            int[] tokens = m.tokenizer().encode(text, true, false);
            LlamaSession s = m.llama().newSession(CTX);
            try (KldBaseWriter w = new KldBaseWriter(base, PerplexityProtocol.LLAMACPP, CTX, m.weights().config().vocabSize(), CHUNKS, tokens)) {
                basePpl = LlamaCppPerplexity.evaluate(() -> rewound(s), tokens, CTX, CHUNKS, m.tokenizer().bos(), null, w);
                w.commit();
            }
        }
    }

    private static LlamaSession rewound(LlamaSession s) {
        s.rewind(0);
        return s;
    }

    private static KldSummary compare(Path m) {
        try (LoadedModel loaded = LoadedModel.load(m, null); KldBaseReader r = KldBaseReader.open(base)) {
            LlamaSession s = loaded.llama().newSession(CTX);
            return KlDivergence.evaluate(() -> rewound(s), r, -1, loaded.tokenizer().bos(), null);
        }
    }

    private static Path quantized(FileType type) {
        Path out = dir.resolve(type + ".gguf");
        GgufQuantizer.quantize(model, out, QuantizeOptions.of(type), null, null);
        return out;
    }

    @Test
    void modelAgainstItselfIsZero() {
        KldSummary s = compare(model);
        assertThat(s.count()).isEqualTo((long) CHUNKS * (CTX - 1 - CTX / 2));
        assertThat(s.kld().value()).isCloseTo(0, within(1e-6));
        // per position only the uint16 rounding of the stored log-probs remains
        assertThat(s.kldQuantiles().max()).isLessThan(1e-4);
        assertThat(s.kldQuantiles().min()).isGreaterThan(-1e-4);
        assertThat(s.sameTop().value()).isEqualTo(1.0);
        assertThat(s.rmsDeltaP().value()).isLessThan(1e-4);
        assertThat(s.ppl().value()).isCloseTo(basePpl.ppl(), within(1e-4));
    }

    /** Q8_0 of stories260K cannot be made (rows of 172 values), so Q6_K stands for the high-bit end. */
    @Test
    void kldGrowsAsBitsShrink() {
        KldSummary q6 = compare(quantized(FileType.Q6_K));
        KldSummary q2 = compare(quantized(FileType.Q2_K));
        assertThat(q6.kld().value()).isPositive();
        assertThat(q2.kld().value()).isGreaterThan(q6.kld().value() + 3 * (q2.kld().uncertainty() + q6.kld().uncertainty()));
        assertThat(q2.kldQuantiles().median()).isGreaterThan(q6.kldQuantiles().median());
        assertThat(q2.sameTop().value()).isLessThan(q6.sameTop().value());
        assertThat(q2.ppl().value()).isGreaterThan(q6.ppl().value());
        assertThat(q2.kldQuantiles().max()).isGreaterThanOrEqualTo(q2.kldQuantiles().p99());
        assertThat(q2.kldQuantiles().p99()).isGreaterThanOrEqualTo(q2.kldQuantiles().median());
    }
}
