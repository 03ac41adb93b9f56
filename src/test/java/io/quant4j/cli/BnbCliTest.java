package io.quant4j.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.quant4j.testing.Shared;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

/** --load-in-8bit / --load-in-4bit on the model-running commands, the bnb command, and their bad input. */
class BnbCliTest {
    private static final Pattern FINAL = Pattern.compile("Final estimate: PPL = ([0-9.]+)");
    private final InputStream stdin = System.in;

    @TempDir
    Path tmp;

    @AfterEach
    void restoreStdin() {
        System.setIn(stdin);
    }

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

    /** The table rows of a bench run, each split into its columns (model, size, params, type, threads, test, t/s, GB/s). */
    private static List<String[]> benchRows(String... args) {
        CliRunner r = CliRunner.run(args);
        assertThat(r.exitCode()).as(r.err()).isZero();
        assertThat(r.out()).contains("| model | size | params | type | threads | test | t/s | weights GB/s |");
        List<String[]> rows = new ArrayList<>();
        for (String line : r.out().lines().toList()) {
            if (line.contains("| pp") || line.contains("| tg")) {
                String[] cols = line.split("\\|");
                String[] trimmed = new String[cols.length - 1];
                for (int i = 1; i < cols.length; i++) {
                    trimmed[i - 1] = cols[i].strip();
                }
                rows.add(trimmed);
            }
        }
        return rows;
    }

    /** "255.2 KiB" → bytes. */
    private static double bytes(String size) {
        String[] p = size.split(" ");
        int unit = List.of("B", "KiB", "MiB", "GiB").indexOf(p[1]);
        assertThat(unit).as(size).isNotNegative();
        return Double.parseDouble(p[0]) * Math.pow(1024, unit);
    }

    @Test
    void benchNamesTheBitsandbytesTypeAndCountsItsBytes() {
        String hf = Shared.file("models/stories260K/hf").toString();
        String[][] cases = {
                {"F32", ""},
                {"LLM.int8 t6.0", "--load-in-8bit"},
                {"NF4 b64", "--load-in-4bit --bnb-4bit-quant-type nf4"},
                {"FP4 b128 +DQ", "--load-in-4bit --double-quant --blocksize 128"}};
        double[] sizes = new double[cases.length];
        for (int c = 0; c < cases.length; c++) {
            List<String> args = new ArrayList<>(List.of("bench", "-m", hf, "-p", "8", "-n", "4", "-r", "1", "-t", "1"));
            if (!cases[c][1].isEmpty()) {
                args.addAll(List.of(cases[c][1].split(" ")));
            }
            List<String[]> rows = benchRows(args.toArray(String[]::new));
            assertThat(rows).as(cases[c][1]).hasSize(2);
            assertThat(rows.get(0)[5]).isEqualTo("pp8");
            assertThat(rows.get(1)[5]).isEqualTo("tg4");
            for (String[] row : rows) {
                assertThat(row[3]).as(cases[c][1]).isEqualTo(cases[c][0]);
            }
            sizes[c] = bytes(rows.get(0)[1]);
        }
        // The size column counts the quantized tensors: 8-bit below F32, 4-bit below 8-bit.
        assertThat(sizes[1]).isLessThan(sizes[0]);
        assertThat(sizes[2]).isLessThan(sizes[1]);
        assertThat(sizes[3]).isLessThan(sizes[1]);
    }

    @Test
    void perplexityOfQuantizedAtLoadIsCloseToButNotTheFloatModels() {
        String hf = Shared.file("models/stories260K/hf").toString();
        String text = Shared.file("data/TinyStories-sample-30KB.txt").toString();
        double f32 = ppl("perplexity", "-m", hf, "-f", text, "-c", "256", "--chunks", "4");
        double int8 = ppl("perplexity", "-m", hf, "-f", text, "-c", "256", "--chunks", "4", "--load-in-8bit");
        double nf4 = ppl("perplexity", "-m", hf, "-f", text, "-c", "256", "--chunks", "4", "--load-in-4bit", "--bnb-4bit-quant-type", "nf4");
        assertThat(int8).isNotEqualTo(f32).isCloseTo(f32, within(f32 * 0.02));
        assertThat(nf4).isNotEqualTo(f32).isNotEqualTo(int8).isBetween(f32 * 0.98, f32 * 1.5);
    }

    private static double ppl(String... args) {
        CliRunner r = CliRunner.run(args);
        assertThat(r.exitCode()).as(r.err()).isZero();
        Matcher m = FINAL.matcher(r.out());
        assertThat(m.find()).as(r.out()).isTrue();
        return Double.parseDouble(m.group(1));
    }

    @Test
    void chatLoadsThroughBitsandbytes() {
        String hf = Shared.file("models/stories260K/hf").toString();
        System.setIn(new ByteArrayInputStream("Tell me a story.\n/exit\n".getBytes(StandardCharsets.UTF_8)));
        CliRunner r = CliRunner.run("chat", "-m", hf, "--load-in-8bit", "--temp", "0", "-n", "12");
        assertThat(r.exitCode()).as(r.err()).isZero();
        assertThat(r.out().strip()).isNotEmpty();
        System.setIn(new ByteArrayInputStream("Hi\n".getBytes(StandardCharsets.UTF_8)));
        assertError(CliRunner.run("chat", "-m", hf, "--load-in-4bit", "--bnb-4bit-quant-type", "int4"), "nf4 or fp4");
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
        assertError(CliRunner.run("bench", "-m", q.toString(), "--load-in-8bit", "-p", "8", "-n", "0", "-r", "1"), "needs F32/F16/BF16 weights", "Q4_0");
        assertError(CliRunner.run("perplexity", "-m", q.toString(), "--load-in-4bit", "-f",
                Shared.file("data/TinyStories-sample-30KB.txt").toString()), "needs F32/F16/BF16 weights", "Q4_0");
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
