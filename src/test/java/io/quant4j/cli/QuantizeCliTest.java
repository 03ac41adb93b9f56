package io.quant4j.cli;

import io.quant4j.format.gguf.GgufFile;
import io.quant4j.testing.Shared;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

class QuantizeCliTest {

    private static long filesIn(Path dir) throws IOException {
        try (var s = Files.list(dir)) {
            return s.count();
        }
    }

    @Test
    void byteIdenticalToGoldenThroughTheCli(@TempDir Path dir) throws IOException {
        Path out = dir.resolve("q.gguf");
        CliRunner r = CliRunner.run("quantize", Shared.file("golden/quant/synth-f32.gguf").toString(), out.toString(), "Q4_K_M", "2");
        assertThat(r.exitCode()).as(r.err()).isZero();
        assertThat(r.err()).contains("[  21/  21]").contains("converting to q6_k").contains("quant size");
        assertThat(Files.readAllBytes(out)).isEqualTo(Files.readAllBytes(Shared.file("golden/quant/synth-mix-Q4_K_M.gguf")));
    }

    @Test
    void fromHuggingFaceAndLlama2cInputs(@TempDir Path dir) {
        String s = "models/stories260K/";
        Path fromHf = dir.resolve("hf-q8.gguf");
        CliRunner a = CliRunner.run("quantize", Shared.file(s + "hf").toString(), fromHf.toString(), "Q5_K_M");
        assertThat(a.exitCode()).as(a.err()).isZero();
        CliRunner g = CliRunner.run("generate", "-m", fromHf.toString(), "-p", "Once upon a time", "--temp", "0", "-n", "25");
        assertThat(g.exitCode()).as(g.err()).isZero();
        assertThat(g.out()).startsWith("Once upon a time, there was a little girl");

        Path f16 = dir.resolve("l2c-f16.gguf");
        CliRunner b = CliRunner.run("quantize", Shared.file(s + "stories260K.bin").toString(), f16.toString(), "F16");
        assertThat(b.exitCode()).as(b.err()).isZero(); // tok512.bin lies beside the checkpoint
        CliRunner g2 = CliRunner.run("generate", "-m", f16.toString(), "-p", "Once upon a time", "--temp", "0", "-n", "25");
        assertThat(g2.out()).startsWith("Once upon a time, there was a little girl");
    }

    @Test
    void partialQuantizationKeepsLaterLayers(@TempDir Path dir) {
        Path out = dir.resolve("partial.gguf");
        CliRunner r = CliRunner.run("quantize", Shared.file("golden/quant/synth-f32.gguf").toString(), out.toString(), "Q4_0", "--layers", "0-0");
        assertThat(r.exitCode()).as(r.err()).isZero();
        try (GgufFile f = GgufFile.open(out)) {
            assertThat(f.tensor("blk.0.attn_q.weight").type().name()).isEqualTo("Q4_0");
            assertThat(f.tensor("blk.1.attn_q.weight").type().name()).isEqualTo("F32");
            assertThat(f.tensor("output.weight").type().name()).isEqualTo("F32");
        }
    }

    @Test
    void refusalsLeaveNoOutput(@TempDir Path dir) throws IOException {
        Path out = dir.resolve("q.gguf");
        CliRunner unknown = CliRunner.run("quantize", Shared.file("models/stories260K/stories260K.gguf").toString(), out.toString(), "Q7_X");
        assertThat(unknown.exitCode()).isEqualTo(1);
        assertThat(unknown.err()).contains("unknown file type 'Q7_X'");
        CliRunner indivisible = CliRunner.run("quantize", Shared.file("models/stories260K/stories260K.gguf").toString(), out.toString(), "Q4_0");
        assertThat(indivisible.exitCode()).isEqualTo(1);
        assertThat(indivisible.err()).contains("172");
        CliRunner notWritable = CliRunner.run("quantize", Shared.file("models/stories260K/stories260K.gguf").toString(), "/nonexistent-dir/q.gguf", "Q8_0");
        assertThat(notWritable.exitCode()).isEqualTo(1);
        assertThat(filesIn(dir)).isZero();
    }

    @Test
    void imatrixCollectsAndQuantizeUsesIt(@TempDir Path dir) {
        Path imatrix = dir.resolve("imatrix.dat");
        CliRunner c = CliRunner.run("imatrix", "-f", Shared.file("data/TinyStories-sample-30KB.txt").toString(), "-o", imatrix.toString(), "-c", "128", "--chunks", "4");
        assertThat(c.exitCode()).as(c.err()).isZero();
        assertThat(c.err()).contains("stored 35 entries from 4 chunks");
        Path out = dir.resolve("q.gguf");
        CliRunner q = CliRunner.run("quantize", "--imatrix", imatrix.toString(), Shared.file("models/stories260K/stories260K.gguf").toString(), out.toString(), "Q4_K_M");
        assertThat(q.exitCode()).as(q.err()).isZero();
        try (GgufFile f = GgufFile.open(out)) {
            assertThat(f.metadata().getLong("quantize.imatrix.entries_count")).isEqualTo(35);
            assertThat(f.metadata().getLong("quantize.imatrix.chunks_count")).isEqualTo(4);
        }
    }
}
