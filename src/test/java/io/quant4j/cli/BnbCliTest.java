package io.quant4j.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.quant4j.testing.Shared;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

/** --load-in-8bit / --load-in-4bit on the model-running commands, the bnb command, and their bad input. */
class BnbCliTest {
    @TempDir
    Path tmp;

    private static void assertError(CliRunner r, String... fragments) {
        assertThat(r.exitCode()).as(r.err()).isEqualTo(1);
        String err = r.err().strip();
        assertThat(err).startsWith("error: ").doesNotContain("Exception");
        for (String f : fragments) {
            assertThat(err).contains(f);
        }
    }

    @Test
    void generateIn4bitAndSaveLoad() {
        String hf = Shared.file("models/stories260K/hf").toString();
        CliRunner g = CliRunner.run("generate", "-m", hf, "--load-in-4bit", "--bnb-4bit-quant-type", "nf4", "--double-quant",
                "-p", "Once upon a time", "-n", "16", "--temp", "0");
        assertThat(g.exitCode()).as(g.err()).isZero();
        assertThat(g.out()).startsWith("Once upon a time");
        Path out = tmp.resolve("nf4");
        CliRunner s = CliRunner.run("bnb", "-m", hf, "--load-in-4bit", "--bnb-4bit-quant-type", "nf4", "--double-quant", "-o", out.toString());
        assertThat(s.exitCode()).as(s.err()).isZero();
        CliRunner g2 = CliRunner.run("generate", "-m", out.toString(), "-p", "Once upon a time", "-n", "16", "--temp", "0");
        assertThat(g2.exitCode()).as(g2.err()).isZero();
        assertThat(g2.out()).isEqualTo(g.out());
        CliRunner i = CliRunner.run("inspect", out.toString());
        assertThat(i.out()).contains("bitsandbytes NF4 b64 +DQ").contains("weight.quant_state.bitsandbytes__nf4");
    }

    /** A LoRA adapter trained on the F32 model, applied over weights quantized at load (as PEFT on a bitsandbytes model). */
    @Test
    void loraOnTopOfTheQuantizedBase() throws IOException {
        String stories = Shared.file("models/stories260K/stories260K.gguf").toString();
        Path data = tmp.resolve("d.jsonl");
        Files.writeString(data, "{\"text\": \"Once upon a time, there was a little cat named Tom. Tom liked to play with a red ball.\"}\n".repeat(3));
        Path adapter = tmp.resolve("adapter");
        Path cfg = tmp.resolve("lora.yml");
        Files.writeString(cfg, "base_model: " + stories + "\nadapter: lora\nlora_r: 4\nlora_target_linear: true\nsequence_len: 32\n"
                + "datasets: [{path: " + data + ", type: completion}]\nmax_steps: 2\nlearning_rate: 1e-2\nlr_scheduler: constant\noutput_dir: " + adapter + "\n");
        CliRunner train = CliRunner.run("finetune", cfg.toString());
        assertThat(train.exitCode()).as(train.err() + train.out()).isZero();
        Path text = tmp.resolve("t.txt");
        Files.writeString(text, "Once upon a time, there was a little girl named Lily. She liked to play with her ball in the park. ".repeat(4));
        for (String[] load : new String[][] {{"--load-in-4bit", "--bnb-4bit-quant-type", "nf4", "--double-quant"}, {"--load-in-8bit"}}) {
            CliRunner plain = CliRunner.run(with(new String[] {"perplexity", "-m", stories, "-f", text.toString(), "-c", "32"}, load));
            CliRunner adapted = CliRunner.run(with(new String[] {"perplexity", "-m", stories, "--lora", adapter.toString(), "-f", text.toString(), "-c", "32"}, load));
            assertThat(adapted.exitCode()).as(adapted.err()).isZero();
            assertThat(finalEstimate(adapted)).as(load[0]).isNotEqualTo(finalEstimate(plain));
            CliRunner g = CliRunner.run(with(new String[] {"generate", "-m", stories, "--lora", adapter.toString(), "-p", "Once upon a time", "-n", "8", "--temp", "0"}, load));
            assertThat(g.exitCode()).as(g.err()).isZero();
            assertThat(g.out()).startsWith("Once upon a time");
            CliRunner bench = CliRunner.run(with(new String[] {"bench", "-m", stories, "--lora", adapter.toString(), "-p", "8", "-n", "4", "-r", "1"}, load));
            assertThat(bench.exitCode()).as(bench.err()).isZero();
            assertThat(bench.out()).contains("tg4");
        }
        assertError(CliRunner.run("generate", "-m", stories, "--load-in-4bit", "--lora", tmp.resolve("nope").toString(), "-p", "x"),
                "no such adapter folder");
    }

    private static String[] with(String[] a, String[] b) {
        String[] all = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, all, a.length, b.length);
        return all;
    }

    private static String finalEstimate(CliRunner r) {
        assertThat(r.exitCode()).as(r.err()).isZero();
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("Final estimate: PPL = ([0-9.]+)").matcher(r.out());
        assertThat(m.find()).as(r.out()).isTrue();
        return m.group(1);
    }

    @Test
    void badOptions() {
        String hf = Shared.file("models/stories260K/hf").toString();
        assertError(CliRunner.run("generate", "-m", hf, "--load-in-8bit", "--load-in-4bit", "-p", "x"), "exclude each other");
        assertError(CliRunner.run("generate", "-m", hf, "--load-in-4bit", "--bnb-4bit-quant-type", "int4", "-p", "x"), "nf4 or fp4");
        assertError(CliRunner.run("generate", "-m", hf, "--load-in-4bit", "--blocksize", "48", "-p", "x"), "power of two from 32 to 4096");
        assertError(CliRunner.run("bnb", "-m", hf, "-o", tmp.resolve("x").toString()), "--load-in-8bit or --load-in-4bit");
        assertError(CliRunner.run("bnb", "-m", hf, "--load-in-8bit", "--lora", tmp.toString(), "-o", tmp.resolve("x").toString()),
                "bnb does not take --lora");
    }

    @Test
    void quantizedSourceIsRefused() {
        Path q = tmp.resolve("q4.gguf");
        assertThat(CliRunner.run("quantize", Shared.file("golden/quant/synth-f32.gguf").toString(), q.toString(), "Q4_0").exitCode()).isZero();
        assertError(CliRunner.run("generate", "-m", q.toString(), "--load-in-4bit", "-p", "x"), "needs F32/F16/BF16 weights", "Q4_0");
    }

    @Test
    void checkpointWhoseStateDisagreesWithTheConfig() throws IOException {
        Path out = tmp.resolve("int8");
        assertThat(CliRunner.run("bnb", "-m", Shared.file("models/stories260K/hf").toString(), "--load-in-8bit", "-o", out.toString()).exitCode()).isZero();
        ObjectMapper m = new ObjectMapper();
        ObjectNode c = (ObjectNode) m.readTree(out.resolve("config.json").toFile());
        ((ObjectNode) c.get("quantization_config")).put("load_in_8bit", false).put("load_in_4bit", true);
        Files.write(out.resolve("config.json"), m.writeValueAsBytes(c));
        assertError(CliRunner.run("inspect", out.toString()), "declares 4-bit weights but 'model.layers.0.self_attn.q_proj.weight' has no quant_state");
    }
}
