package io.quant4j.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.quant4j.testing.Shared;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.function.Consumer;

import static org.assertj.core.api.Assertions.assertThat;

/** The gptq command end to end on stories260K, and its bad input. */
class GptqCliTest {
    @TempDir
    Path tmp;

    private static String hf() {
        return Shared.file("models/stories260K/hf").toString();
    }

    private static void assertError(CliRunner r, String... fragments) {
        assertThat(r.exitCode()).as(r.err()).isEqualTo(1);
        String last = r.err().strip().lines().reduce((a, b) -> b).orElse("");
        assertThat(last).startsWith("error: ");
        assertThat(r.err()).doesNotContain("Exception").doesNotContain("\tat ");
        for (String f : fragments) {
            assertThat(last).contains(f);
        }
    }

    private Path rtn(String... extra) {
        Path out = tmp.resolve("rtn" + System.nanoTime());
        String[] base = {"gptq", "-m", hf(), "--method", "rtn", "--bits", "4", "--group-size", "32", "-o", out.toString()};
        String[] args = java.util.stream.Stream.concat(java.util.Arrays.stream(base), java.util.Arrays.stream(extra)).toArray(String[]::new);
        CliRunner r = CliRunner.run(args);
        assertThat(r.exitCode()).as(r.err()).isZero();
        return out;
    }

    @Test
    void gptqCheckpointRunsAndDeclaresWhatItQuantized() throws IOException {
        Path out = tmp.resolve("g");
        CliRunner r = CliRunner.run("gptq", "-m", hf(), "--bits", "4", "--group-size", "32", "--nsamples", "8", "--seqlen", "128",
                "--act-order", "-o", out.toString());
        assertThat(r.exitCode()).as(r.err()).isZero();
        // stories260K's MLP (172 features) cannot be packed by AutoGPTQ: kept in fp16 and declared
        assertThat(r.err()).contains("warning: kept in fp16").contains("mlp.down_proj [64 x 172]").contains("20 of 35 projections quantized");
        JsonNode q = new ObjectMapper().readTree(out.resolve("config.json").toFile()).get("quantization_config");
        assertThat(q.get("desc_act").asBoolean()).isTrue();
        assertThat(q.get("modules_in_block_to_quantize").toString())
                .isEqualTo("[[\"self_attn.k_proj\",\"self_attn.v_proj\",\"self_attn.q_proj\"],[\"self_attn.o_proj\"]]");
        assertThat(q.get("dynamic").fieldNames().next()).isEqualTo("-:model\\.layers\\.(0|1|2|3|4)\\.(mlp\\.up_proj|mlp\\.gate_proj|mlp\\.down_proj)$");
        CliRunner g = CliRunner.run("generate", "-m", out.toString(), "-p", "Once upon a time", "-n", "20", "--temp", "0");
        assertThat(g.exitCode()).as(g.err()).isZero();
        assertThat(g.out()).startsWith("Once upon a time");
        CliRunner i = CliRunner.run("inspect", out.toString());
        assertThat(i.out()).contains("GPTQ 4-bit g32 (gptq, 20 of 35 projections quantized)");
    }

    @Test
    void benchNamesTheGptqLayout() {
        // --pad-unaligned quantizes every projection, so the GPTQ layout holds most of the layers' bytes.
        Path out = rtn("--pad-unaligned");
        CliRunner b = CliRunner.run("bench", "-m", out.toString(), "-p", "8", "-n", "4", "-r", "1", "-t", "1");
        assertThat(b.exitCode()).as(b.err()).isZero();
        assertThat(b.out()).contains("| GPTQ 4-bit g32 | 1 | pp8 |").contains("| GPTQ 4-bit g32 | 1 | tg4 |");
    }

    @Test
    void partialQuantizationKeepsTheOtherLayersInFloat() throws IOException {
        Path out = rtn("--layers", "0-1", "--pad-unaligned");
        JsonNode q = new ObjectMapper().readTree(out.resolve("quantize_config.json").toFile());
        assertThat(q.get("dynamic").has("-:model\\.layers\\.(2|3|4)\\..*")).isTrue();
        CliRunner i = CliRunner.run("inspect", out.toString());
        assertThat(i.exitCode()).as(i.err()).isZero();
        assertThat(i.out()).contains("14 of 35 projections quantized").contains("model.layers.2.mlp.down_proj.weight");
    }

    @Test
    void badBitsAndGroupSizes() {
        assertError(CliRunner.run("gptq", "-m", hf(), "--bits", "5", "-o", tmp.resolve("x").toString()), "--bits 5 is not supported");
        assertError(CliRunner.run("gptq", "-m", hf(), "--group-size", "100", "-o", tmp.resolve("x").toString()),
                "--group-size 100 does not divide the 64 input features");
        assertError(CliRunner.run("gptq", "-m", hf(), "--group-size", "0", "-o", tmp.resolve("x").toString()), "--group-size 0 is not supported");
        assertError(CliRunner.run("gptq", "-m", hf(), "--asym", "--checkpoint-format", "gptq", "-o", tmp.resolve("x").toString()),
                "use gptq_v2");
    }

    @Test
    void calibrationTextTooShort() {
        assertError(CliRunner.run("gptq", "-m", hf(), "--calib", Shared.file("data/TinyStories-sample-30KB.txt").toString(),
                        "--nsamples", "128", "--seqlen", "512", "-o", tmp.resolve("x").toString()),
                "needs 65536", "--nsamples 128 x --seqlen 512");
        assertError(CliRunner.run("gptq", "-m", hf(), "--seqlen", "2048", "-o", tmp.resolve("x").toString()),
                "--seqlen 2048 is longer than the model's context (512)");
    }

    private static void edit(Path json, Consumer<ObjectNode> change) throws IOException {
        ObjectMapper m = new ObjectMapper();
        ObjectNode n = (ObjectNode) m.readTree(json.toFile());
        change.accept(n);
        Files.write(json, m.writeValueAsBytes(n));
    }

    @Test
    void checkpointWhoseConfigDisagreesWithItsTensors() throws IOException {
        Path a = rtn();
        edit(a.resolve("config.json"), c -> ((ObjectNode) c.get("quantization_config")).put("bits", 8));
        edit(a.resolve("quantize_config.json"), c -> c.put("bits", 8));
        assertError(CliRunner.run("inspect", a.toString()), "model.layers.0.self_attn.q_proj.qweight' has shape [8, 64], expected [16, 64]",
                "config: 8 bits, group size 32");

        Path b = rtn();
        edit(b.resolve("quantize_config.json"), c -> c.put("group_size", 64));
        assertError(CliRunner.run("inspect", b.toString()), "quantize_config.json: 'group_size' is 64 but config.json says 32");

        Path c = rtn();
        edit(c.resolve("config.json"), n -> ((ObjectNode) n.get("quantization_config").get("dynamic")).putObject("-:model\\.layers\\.0\\..*"));
        assertError(CliRunner.run("inspect", c.toString()), "holds 'model.layers.0.self_attn.q_proj.qweight' but config.json leaves");

        Path d = rtn();
        edit(d.resolve("config.json"), n -> ((ObjectNode) n.get("quantization_config")).remove("dynamic"));
        edit(d.resolve("config.json"), n -> ((ObjectNode) n.get("quantization_config")).remove("modules_in_block_to_quantize"));
        edit(d.resolve("quantize_config.json"), n -> n.remove("dynamic"));
        assertError(CliRunner.run("inspect", d.toString()), "holds a float 'model.layers.0.mlp.gate_proj.weight' but config.json declares");

        Path e = rtn();
        edit(e.resolve("config.json"), n -> ((ObjectNode) n.get("quantization_config")).put("checkpoint_format", "marlin"));
        assertError(CliRunner.run("inspect", e.toString()), "'quantization_config.checkpoint_format' is 'marlin'");
    }
}
