package io.quant4j.cli;

import io.quant4j.eval.KldBaseWriter;
import io.quant4j.eval.PerplexityProtocol;
import io.quant4j.testing.Shared;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

/** {@code perplexity --kl-divergence-base / --kl-divergence} end to end, and its bad input. */
class PerplexityKldCliTest {
    private static final Pattern MEAN_KLD = Pattern.compile("Mean {4}KLD: +(-?\\d+\\.\\d+) ± +(\\d+\\.\\d+)");
    private static final Pattern FINAL = Pattern.compile("Final estimate: PPL = (\\d+\\.\\d{4})");

    @TempDir
    static Path dir;
    static String model;
    static Path base;
    static double basePpl;

    @BeforeAll
    static void makeBase() {
        model = Shared.file("models/stories260K/stories260K.gguf").toString();
        base = dir.resolve("base.kld");
        CliRunner r = CliRunner.run("perplexity", "-m", model, "-f", Shared.file("data/TinyStories-sample-30KB.txt").toString(),
                "-c", "128", "--chunks", "6", "--kl-divergence-base", base.toString());
        assertThat(r.exitCode()).as(r.err()).isZero();
        assertThat(r.err()).contains("saving the log-probs of 378 positions");
        basePpl = number(FINAL, r.out());
    }

    private static double number(Pattern p, String text) {
        Matcher m = p.matcher(text);
        assertThat(m.find()).as(text).isTrue();
        return Double.parseDouble(m.group(1));
    }

    @Test
    void againstItself() {
        CliRunner r = CliRunner.run("perplexity", "-m", model, "--kl-divergence-base", base.toString(), "--kl-divergence");
        assertThat(r.exitCode()).as(r.err()).isZero();
        assertThat(number(MEAN_KLD, r.out())).isCloseTo(0, within(1e-5));
        assertThat(r.out()).contains("Same top p: 100.000 ± 0.000 %").contains("Maximum KLD:").contains("99.9%   KLD:")
                .contains("Median  KLD:").contains("RMS Δp    :").contains("Mean PPL(Q)/PPL(base)");
        assertThat(number(FINAL, r.out())).isCloseTo(basePpl, within(1e-4));
    }

    @Test
    void quantizedCopy() {
        Path q = dir.resolve("q2k.gguf");
        assertThat(CliRunner.run("quantize", model, q.toString(), "Q2_K").exitCode()).isZero();
        // -f is not needed (the tokens are in the base file); given anyway, it is ignored with a note
        CliRunner r = CliRunner.run("perplexity", "-m", q.toString(), "-f", "whatever.txt", "--kl-divergence-base", base.toString(),
                "--kl-divergence", "-c", "128");
        assertThat(r.exitCode()).as(r.err()).isZero();
        assertThat(r.err()).contains("ignoring the text");
        assertThat(number(MEAN_KLD, r.out())).isGreaterThan(0.01);
        assertThat(number(FINAL, r.out())).isGreaterThan(basePpl);
        assertThat(r.out().lines().filter(l -> l.matches("^ +\\d+ +\\d+\\.\\d{4} ± .*%$")).count()).isEqualTo(6);
    }

    @Test
    void gptqProtocolBaseAndCompare() {
        Path g = dir.resolve("gptq.kld");
        CliRunner made = CliRunner.run("perplexity", "-m", model, "--protocol", "gptq", "-f",
                Shared.file("data/TinyStories-sample-30KB.txt").toString(), "-c", "64", "--chunks", "3", "--kl-divergence-base", g.toString());
        assertThat(made.exitCode()).as(made.err()).isZero();
        CliRunner r = CliRunner.run("perplexity", "-m", model, "--kl-divergence-base", g.toString(), "--kl-divergence");
        assertThat(r.exitCode()).as(r.err()).isZero();
        assertThat(r.err()).contains("protocol gptq");
        assertThat(number(FINAL, r.out())).isCloseTo(number(FINAL, made.out()), within(1e-4));
        assertOneLineError(CliRunner.run("perplexity", "-m", model, "--kl-divergence-base", g.toString(), "--kl-divergence",
                "--protocol", "llamacpp"), "made with --protocol gptq");
    }

    private static void assertOneLineError(CliRunner r, String... fragments) {
        assertThat(r.exitCode()).as(r.err()).isEqualTo(1);
        String err = r.err().strip();
        assertThat(err.lines().filter(l -> l.startsWith("error: ")).count()).as(err).isEqualTo(1);
        String last = err.lines().reduce((a, b) -> b).orElseThrow();
        assertThat(last).startsWith("error: ").doesNotContain("Exception");
        assertThat(err).doesNotContain("\tat ");
        for (String f : fragments) {
            assertThat(last).contains(f);
        }
    }

    @Test
    void badBaseFiles() throws IOException {
        assertOneLineError(CliRunner.run("perplexity", "-m", model, "--kl-divergence"), "--kl-divergence needs --kl-divergence-base");
        byte[] all = Files.readAllBytes(base);
        Path cut = dir.resolve("cut.kld");
        Files.write(cut, Arrays.copyOf(all, all.length - 100));
        assertOneLineError(CliRunner.run("perplexity", "-m", model, "--kl-divergence-base", cut.toString(), "--kl-divergence"),
                "cut.kld", "truncated");
        Path text = dir.resolve("not-logits.kld");
        Files.writeString(text, "Once upon a time there was a file that was not a logits file at all.");
        assertOneLineError(CliRunner.run("perplexity", "-m", model, "--kl-divergence-base", text.toString(), "--kl-divergence"),
                "not-logits.kld", "not a KL-divergence base file");
        assertOneLineError(CliRunner.run("perplexity", "-m", Shared.file("models/tiny-random/llama-2-tiny-random.gguf").toString(),
                "--kl-divergence-base", base.toString(), "--kl-divergence"), "vocabulary of 512 tokens, this model has 32000");
        assertOneLineError(CliRunner.run("perplexity", "-m", model, "--kl-divergence-base", base.toString(), "--kl-divergence",
                "-c", "256"), "made with -c 128");
        // a base made with a context longer than this model's (stories260K: 512)
        Path longCtx = dir.resolve("long.kld");
        try (KldBaseWriter w = new KldBaseWriter(longCtx, PerplexityProtocol.LLAMACPP, 1024, 512, 1, new int[1024])) {
            for (int i = 0; i < 1024 - 1 - 512; i++) {
                w.write(new float[512], 0);
            }
            w.commit();
        }
        assertOneLineError(CliRunner.run("perplexity", "-m", model, "--kl-divergence-base", longCtx.toString(), "--kl-divergence"),
                "made with -c 1024, more than this model's context length 512");
        assertOneLineError(CliRunner.run("perplexity", "-m", model, "-f", Shared.file("data/TinyStories-sample-30KB.txt").toString(),
                "--kl-divergence-base", dir.resolve("no/such/dir/base.kld").toString()), "cannot write here");
    }
}
