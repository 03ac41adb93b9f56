package io.quant4j.cli;

import io.quant4j.model.LlamaWeights;
import io.quant4j.runtime.LoadedModel;
import io.quant4j.tensor.GgmlType;
import io.quant4j.tensor.WeightMatrix;
import io.quant4j.testing.Shared;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

/** GPTQ → GGUF: exact where GPTQ blocks are ggml blocks, requantized otherwise. */
class ConvertCliTest {
    @TempDir
    Path tmp;

    private Path gptq(String... options) {
        Path out = tmp.resolve("g" + System.nanoTime());
        String[] base = {"gptq", "-m", Shared.file("golden/quant/synth-f32.gguf").toString(), "--nsamples", "4", "--seqlen", "64",
                "-o", out.toString()};
        String[] args = java.util.stream.Stream.concat(java.util.Arrays.stream(base), java.util.Arrays.stream(options)).toArray(String[]::new);
        CliRunner r = CliRunner.run(args);
        assertThat(r.exitCode()).as(r.err()).isZero();
        return out;
    }

    @Test
    void symmetric4bitGroupsOf32BecomeQ4_0Exactly() {
        String tok = Shared.file("golden/quant/synth-f32.gguf").toString();
        Path ckpt = gptq("--bits", "4", "--group-size", "64");
        Path gguf = tmp.resolve("q4_0.gguf");
        CliRunner c = CliRunner.run("convert", ckpt.toString(), gguf.toString(), "--type", "Q4_0", "--pure", "--tokenizer", tok);
        assertThat(c.exitCode()).as(c.err()).isZero();
        assertThat(c.err()).contains("14 copied exactly").contains("0 requantized");
        try (LoadedModel a = LoadedModel.load(ckpt, Path.of(tok)); LoadedModel b = LoadedModel.load(gguf, null)) {
            for (int l = 0; l < 2; l++) {
                LlamaWeights.Layer x = a.weights().weights().layers().get(l);
                LlamaWeights.Layer y = b.weights().weights().layers().get(l);
                for (int m = 0; m < 7; m++) {
                    WeightMatrix wa = x.matrices().get(m);
                    WeightMatrix wb = y.matrices().get(m);
                    assertThat(wb.type()).isEqualTo(GgmlType.Q4_0);
                    float[] ra = new float[wa.cols()];
                    float[] rb = new float[wb.cols()];
                    for (int r = 0; r < wa.rows(); r++) {
                        wa.dequantizeRow(r, ra, 0);
                        wb.dequantizeRow(r, rb, 0);
                        assertThat(rb).as("layer %d matrix %d row %d", l, m, r).containsExactly(ra);
                    }
                }
            }
        }
    }

    @Test
    void eightBitBecomesQ8_0AndActOrderIsRequantized() {
        String tok = Shared.file("golden/quant/synth-f32.gguf").toString();
        Path eight = gptq("--bits", "8", "--group-size", "32");
        CliRunner c = CliRunner.run("convert", eight.toString(), tmp.resolve("q8.gguf").toString(), "--type", "Q8_0", "--tokenizer", tok);
        assertThat(c.exitCode()).as(c.err()).isZero();
        assertThat(c.err()).contains("14 copied exactly");
        Path ordered = gptq("--bits", "4", "--group-size", "32", "--act-order");
        CliRunner d = CliRunner.run("convert", ordered.toString(), tmp.resolve("ao.gguf").toString(), "--type", "Q4_0", "--pure", "--tokenizer", tok);
        assertThat(d.exitCode()).as(d.err()).isZero();
        assertThat(d.err()).contains("0 copied exactly").contains("14 requantized");
        CliRunner g = CliRunner.run("generate", "-m", tmp.resolve("ao.gguf").toString(), "-p", "Once", "-n", "4");
        assertThat(g.exitCode()).as(g.err()).isZero();
    }

    /** A Hugging Face tokenizer ranked by its merge list keeps its merge order in GGUF scores. */
    @Test
    void huggingFaceTokenizerSurvivesConversion() throws java.io.IOException {
        Path gguf = tmp.resolve("hf.gguf");
        CliRunner c = CliRunner.run("convert", Shared.file("models/stories260K/hf").toString(), gguf.toString());
        assertThat(c.exitCode()).as(c.err()).isZero();
        String text = java.nio.file.Files.readString(Shared.file("data/TinyStories-sample-30KB.txt"));
        try (LoadedModel a = LoadedModel.load(Shared.file("models/stories260K/hf"), null); LoadedModel b = LoadedModel.load(gguf, null)) {
            assertThat(b.tokenizer().encode(text, true, false)).isEqualTo(a.tokenizer().encode(text, true, false));
        }
    }

    @Test
    void badInput() {
        CliRunner r = CliRunner.run("convert", tmp.resolve("missing").toString(), tmp.resolve("x.gguf").toString());
        assertThat(r.exitCode()).isEqualTo(1);
        assertThat(r.err()).contains("missing");
        CliRunner t = CliRunner.run("convert", Shared.file("models/stories260K/hf").toString(), tmp.resolve("x.gguf").toString(), "--type", "Q9_9");
        assertThat(t.exitCode()).isEqualTo(1);
        assertThat(t.err()).contains("unknown file type 'Q9_9'");
    }
}
