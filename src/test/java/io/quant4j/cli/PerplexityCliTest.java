package io.quant4j.cli;

import io.quant4j.testing.Shared;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

/** llama-perplexity figures from ../shared/golden/README.md, reproduced within 0.1 %. */
class PerplexityCliTest {
    private static final Pattern FINAL = Pattern.compile("Final estimate: PPL = (\\d+\\.\\d{4}) \\+/- (\\d+\\.\\d{5})");

    private static double ppl(String... args) {
        CliRunner r = CliRunner.run(args);
        assertThat(r.exitCode()).as(r.err()).isZero();
        Matcher m = FINAL.matcher(r.out());
        assertThat(m.find()).as(r.out()).isTrue();
        return Double.parseDouble(m.group(1));
    }

    @Test
    void f32MatchesLlamaCpp() {
        double p = ppl("perplexity", "-m", Shared.file("models/stories260K/stories260K.gguf").toString(),
                "-f", Shared.file("data/TinyStories-sample-30KB.txt").toString(), "-c", "256", "-b", "256");
        assertThat(p).isCloseTo(6.2133, within(6.2133 * 0.001));
    }

    @Test
    void quant4jQ4KMMatchesLlamaCppQ4KM(@TempDir Path dir) {
        Path q = dir.resolve("q4km.gguf");
        assertThat(CliRunner.run("quantize", Shared.file("models/stories260K/stories260K.gguf").toString(), q.toString(), "Q4_K_M").exitCode()).isZero();
        double p = ppl("perplexity", "-m", q.toString(), "-f", Shared.file("data/TinyStories-sample-30KB.txt").toString(), "-c", "256", "-b", "256");
        assertThat(p).isCloseTo(6.3135, within(6.3135 * 0.001));
    }
}
