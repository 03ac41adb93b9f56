package io.quant4j.cli;

import com.fasterxml.jackson.databind.JsonNode;
import io.quant4j.format.Json;
import io.quant4j.format.gguf.GgufFile;
import io.quant4j.tensor.GgmlType;
import io.quant4j.testing.Shared;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

/** finetune → adapter → perplexity with --lora → merge, through the CLI, on stories260K. */
class FinetuneCliTest {
    @TempDir
    Path dir;

    private static final String[] STORIES = {
            "Once upon a time, there was a little cat named Tom. Tom liked to play with a red ball in the garden.",
            "One day, a girl named Sue found a big box. She opened it and saw a small dog. The dog was happy.",
            "Ben and his mom went to the park. They saw a duck in the pond. Ben gave the duck some bread.",
            "The sun was hot. Lily wanted to swim. She ran to the lake with her friend and they laughed all day.",
            "A little bird could not fly. The bird was sad. A kind boy helped the bird and it flew up to the tree.",
            "Tim had a toy car. He liked to race it on the floor. His sister wanted to play too, so they shared.",
    };

    private Path data() throws IOException {
        StringBuilder sb = new StringBuilder();
        for (String s : STORIES) {
            sb.append("{\"text\": \"").append(s).append("\"}\n");
        }
        Path p = dir.resolve("stories.jsonl");
        Files.writeString(p, sb);
        return p;
    }

    private Path config(String name, String body) throws IOException {
        Path p = dir.resolve(name);
        Files.writeString(p, "base_model: " + Shared.file("models/stories260K/stories260K.gguf") + "\n"
                + "datasets:\n  - path: " + data() + "\n    type: completion\n"
                + "output_dir: " + dir.resolve(name + "-out") + "\n" + body);
        return p;
    }

    private static double ppl(CliRunner r) {
        Matcher m = Pattern.compile("Final estimate: PPL = ([0-9.]+)").matcher(r.out());
        assertThat(m.find()).as(r.out() + r.err()).isTrue();
        return Double.parseDouble(m.group(1));
    }

    @Test
    void layerTrainingOnAPartiallyQuantizedBase() throws IOException {
        Path cfg = config("layers.yml", """
                quant4j_quantize: {type: Q3_K_S, layers: 0-3}
                adapter:
                unfrozen_parameters: ['^model.layers.4.', '^lm_head.weight$']
                sequence_len: 64
                val_set_size: 2
                micro_batch_size: 2
                max_steps: 4
                learning_rate: 1e-3
                eval_steps: 2
                save_steps: 2
                logging_steps: 1
                bf16: true
                """);
        CliRunner r = CliRunner.run("finetune", cfg.toString(), "-t", "2");
        assertThat(r.exitCode()).as(r.err() + r.out()).isZero();
        Path out = dir.resolve("layers.yml-out");
        assertThat(r.out()).contains("note: ignoring 'bf16'").contains("quant4j_quantize: Q3_K_S on layers 0-3")
                .contains("step 4/4").contains("eval step 4: val_loss").contains("saved checkpoint");
        for (String f : new String[] {"adapter_config.json", "adapter_model.safetensors", "train_log.csv", "eval_log.csv",
                "loss_curve.svg", "quant4j_training.json", "quantized-base.gguf", "checkpoint-2/adapter_config.json",
                "checkpoint-2/optimizer.safetensors"}) {
            assertThat(out.resolve(f)).exists();
        }
        assertThat(Files.readAllLines(out.resolve("train_log.csv"))).hasSize(5);
        assertThat(Files.readAllLines(out.resolve("eval_log.csv"))).hasSize(4); // steps 0, 2, 4
        JsonNode config = Json.mapper().readTree(out.resolve("adapter_config.json").toFile());
        assertThat(config.get("modules_to_save")).hasSize(10); // 7 projections, 2 norms of layer 4, lm_head
        try (GgufFile base = GgufFile.open(out.resolve("quantized-base.gguf"))) {
            assertThat(base.tensor("blk.3.attn_q.weight").type()).isEqualTo(GgmlType.IQ4_NL);
            assertThat(base.tensor("blk.4.attn_q.weight").type()).isEqualTo(GgmlType.F32);
        }

        // resuming from checkpoint-2 redoes steps 3-4
        CliRunner resumed = CliRunner.run("finetune", cfg.toString(), "--resume");
        assertThat(resumed.exitCode()).as(resumed.err()).isZero();
        assertThat(resumed.out()).contains("resuming from").contains("step 3/4");

        String text = dir.resolve("eval.txt").toString();
        Files.writeString(Path.of(text), String.join(" ", STORIES).repeat(3));
        String base = out.resolve("quantized-base.gguf").toString();
        double adapted = ppl(CliRunner.run("perplexity", "-m", base, "--lora", out.toString(), "-f", text, "-c", "64"));
        Path merged = dir.resolve("merged.gguf");
        CliRunner m = CliRunner.run("merge", base, out.toString(), merged.toString());
        assertThat(m.exitCode()).as(m.err()).isZero();
        assertThat(ppl(CliRunner.run("perplexity", "-m", merged.toString(), "-f", text, "-c", "64"))).isCloseTo(adapted,
                org.assertj.core.data.Offset.offset(2e-4));
    }

    /**
     * QLoRA on an NF4 + double-quant base quantized at load, then the adapter on that base through
     * {@code --lora --load-in-4bit} (the same deterministic quantizer), and on the same base saved by {@code bnb}.
     */
    @Test
    void qloraOnAllLinearLayers() throws IOException {
        Path cfg = config("qlora.yml", """
                load_in_4bit: true
                adapter: qlora
                lora_r: 4
                lora_alpha: 8
                lora_dropout: 0.05
                lora_target_linear: true
                sequence_len: 64
                max_steps: 2
                learning_rate: 1e-2
                optimizer: paged_adamw_32bit
                lr_scheduler: constant
                """);
        Path out = dir.resolve("qlora.yml-out");
        Files.createDirectories(out);
        Files.writeString(out.resolve("quantized-base.gguf"), "left by an older run");
        CliRunner r = CliRunner.run("finetune", cfg.toString());
        assertThat(r.exitCode()).as(r.err() + r.out()).isZero();
        String stories = Shared.file("models/stories260K/stories260K.gguf").toString();
        assertThat(r.out()).contains("load_in_4bit: bitsandbytes NF4 blocksize 64 + double quant on every decoder linear layer")
                .contains("removed " + out.resolve("quantized-base.gguf"))
                .contains("evaluate: quant4j perplexity -m " + stories + " --load-in-4bit --bnb-4bit-quant-type nf4 --double-quant --lora " + out);
        assertThat(out.resolve("quantized-base.gguf")).doesNotExist(); // the base lives in memory, rebuilt by the load flags
        JsonNode config = Json.mapper().readTree(out.resolve("adapter_config.json").toFile());
        assertThat(config.get("target_modules")).hasSize(7);
        assertThat(config.get("r").asInt()).isEqualTo(4);
        JsonNode summary = Json.mapper().readTree(out.resolve("quant4j_training.json").toFile());
        assertThat(summary.get("base_quantization").asText()).isEqualTo("load_in_4bit NF4 blocksize 64 + double quant");
        assertThat(summary.get("trained_on").asText()).isEqualTo(stories + " --load-in-4bit --bnb-4bit-quant-type nf4 --double-quant");

        String text = dir.resolve("eval.txt").toString();
        Files.writeString(Path.of(text), String.join(" ", STORIES).repeat(3));
        String[] nf4 = {"--load-in-4bit", "--bnb-4bit-quant-type", "nf4", "--double-quant"};
        double base = ppl(CliRunner.run(concat(new String[] {"perplexity", "-m", stories, "-f", text, "-c", "64"}, nf4)));
        CliRunner adaptedRun = CliRunner.run(concat(new String[] {"perplexity", "-m", stories, "--lora", out.toString(), "-f", text, "-c", "64"}, nf4));
        double adapted = ppl(adaptedRun);
        assertThat(adapted).as("the adapter changes the NF4 model").isNotEqualTo(base);
        // the same NF4 base saved in bitsandbytes' serialization and read in place, with the adapter: the same figure
        Path saved = dir.resolve("nf4-base");
        CliRunner b = CliRunner.run(concat(new String[] {"bnb", "-m", stories, "-o", saved.toString()}, nf4));
        assertThat(b.exitCode()).as(b.err()).isZero();
        assertThat(ppl(CliRunner.run("perplexity", "-m", saved.toString(), "--tokenizer", stories, "--lora", out.toString(), "-f", text, "-c", "64")))
                .isEqualTo(adapted);
    }

    private static String[] concat(String[] a, String[] b) {
        String[] all = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, all, a.length, b.length);
        return all;
    }

    @Test
    void badConfigIsOneLine() throws IOException {
        Path cfg = config("bad.yml", "adapter: lora\nlora_target_linear: true\nlearning_rate: 1e-3\nlora_rnak: 8\n");
        CliRunner r = CliRunner.run("finetune", cfg.toString());
        assertThat(r.exitCode()).isEqualTo(1);
        assertThat(r.err().strip()).isEqualTo("error: " + cfg + ": unknown key 'lora_rnak'");
        CliRunner missing = CliRunner.run("generate", "--lora", dir.resolve("nope").toString(), "-p", "x");
        assertThat(missing.exitCode()).isEqualTo(1);
        assertThat(missing.err()).contains("no such adapter folder");
    }
}
