package io.quant4j.train.config;

import io.quant4j.format.ModelFormatException;
import io.quant4j.peft.Projection;
import io.quant4j.quantize.FileType;
import io.quant4j.train.LrSchedule;
import io.quant4j.train.data.DatasetFormat;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.EnumSet;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class FinetuneConfigTest {
    @TempDir
    Path dir;

    private static final String QLORA = """
            base_model: model.gguf
            model_type: LlamaForCausalLM
            tokenizer_type: LlamaTokenizer
            load_in_8bit: false
            load_in_4bit: true
            strict: false
            datasets:
              - path: data.jsonl
                type: alpaca
              - path: chat.jsonl
                type: sharegpt
                conversation: chatml
            val_set_size: 0.05
            output_dir: ./qlora-out
            adapter: qlora
            sequence_len: 256
            lora_r: 32
            lora_alpha: 16
            lora_dropout: 0.05
            lora_target_linear: true
            peft_layers_to_transform: [2, 3]
            lora_modules_to_save: [lm_head]
            gradient_accumulation_steps: 4
            micro_batch_size: 2
            num_epochs: 4
            optimizer: paged_adamw_32bit
            lr_scheduler: cosine
            learning_rate: 0.0002
            train_on_inputs: false
            bf16: auto
            gradient_checkpointing: true
            warmup_ratio: 0.1
            weight_decay: 0.0
            max_grad_norm: 0.3
            seed: 7
            evals_per_epoch: 4
            save_steps: 50
            """;

    private FinetuneConfig read(String yaml) throws IOException {
        Path p = dir.resolve("config.yml");
        Files.writeString(p, yaml);
        return FinetuneConfig.read(p);
    }

    @Test
    void axolotlQloraExample() throws IOException {
        FinetuneConfig c = read(QLORA);
        assertThat(c.adapter()).isEqualTo(FinetuneConfig.Adapter.QLORA);
        assertThat(c.baseQuantization().fileType()).isEqualTo(FileType.IQ4_NL);
        assertThat(c.baseQuantization().linearLayersOnly()).isTrue();
        assertThat(c.loraRank()).isEqualTo(32);
        assertThat(c.loraAlpha()).isEqualTo(16.0);
        assertThat(c.loraTargets()).isEqualTo(EnumSet.allOf(Projection.class));
        assertThat(c.loraLayers()).containsExactly(2, 3);
        assertThat(c.modulesToSave()).containsExactly("lm_head");
        assertThat(c.datasets()).extracting(d -> d.format()).containsExactly(DatasetFormat.ALPACA, DatasetFormat.SHAREGPT);
        assertThat(c.datasets().get(1).template().name()).isEqualTo("chatml");
        assertThat(c.training().sequencesPerStep()).isEqualTo(8);
        assertThat(c.training().schedule()).isEqualTo(LrSchedule.COSINE);
        assertThat(c.training().maxGradNorm()).isEqualTo(0.3);
        assertThat(c.training().evalSteps()).isEqualTo(-4); // per epoch, resolved against the data
        assertThat(FinetuneConfig.stepsEvery(-4, 100)).isEqualTo(25);
        assertThat(c.notes()).anyMatch(n -> n.contains("'bf16'")).anyMatch(n -> n.contains("'gradient_checkpointing'"));
    }

    @Test
    void partialQuantizationRecipe() throws IOException {
        FinetuneConfig c = read("""
                base_model: stories.gguf
                quant4j_quantize: {type: Q3_K_S, layers: 0-3}
                adapter:
                unfrozen_parameters: ['^model.layers.4.', '^lm_head.weight$']
                datasets: [{path: s.jsonl, type: completion}]
                learning_rate: 1e-3
                lr_scheduler: linear
                max_steps: 10
                """);
        assertThat(c.adapter()).isEqualTo(FinetuneConfig.Adapter.NONE);
        assertThat(c.baseQuantization().fileType()).isEqualTo(FileType.Q3_K_S);
        assertThat(c.baseQuantization().layers().contains(3)).isTrue();
        assertThat(c.baseQuantization().layers().contains(4)).isFalse();
        // dots are literal: 'model.layers.4.' does not match model_layers_4x
        assertThat(c.unfrozenParameters().getFirst().matcher("model.layers.4.mlp.up_proj.weight").find()).isTrue();
        assertThat(c.unfrozenParameters().getFirst().matcher("model.layers.40.mlp.up_proj.weight").find()).isFalse();
        assertThat(c.training().learningRate()).isEqualTo(1e-3);
        assertThat(c.training().maxSteps()).isEqualTo(10);
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "lora_rr: 8|unknown key 'lora_rr'",
            "load_in_8bit: true|'load_in_8bit' contradicts load_in_4bit",
            "quant4j_quantize: Q4_K_M|'quant4j_quantize' contradicts load_in_4bit",
            "warmup_steps: 10|'warmup_steps' contradicts warmup_ratio",
            "eval_steps: 10|'evals_per_epoch' contradicts eval_steps",
            "sample_packing: true|'sample_packing' is not supported",
            "optimizer: adamw_bnb_8bit|'optimizer' is 'adamw_bnb_8bit'",
            "lr_scheduler: polynomial|'lr_scheduler' is 'polynomial'",
            "model_type: MistralForCausalLM|'model_type' is 'MistralForCausalLM'",
            "unfrozen_parameters: [lm_head]|'unfrozen_parameters' is for full training",
            "resume_from_checkpoint: out/checkpoint-5|'resume_from_checkpoint' is not supported",
    })
    void unknownAndContradictoryKeysNameTheKey(String extra, String message) {
        assertThatThrownBy(() -> read(QLORA + extra + "\n")).isInstanceOf(ModelFormatException.class)
                .hasMessageContaining("config.yml: " + message).hasMessageNotContaining("\n");
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "adapter: qlora|load_in_4bit: false|'adapter' qlora needs load_in_4bit",
            "adapter: lora|load_in_4bit: true|'load_in_4bit' goes with adapter: qlora",
            "adapter: lora|lora_target_linear: false|'lora_target_modules' or 'lora_target_linear: true' is required",
            "adapter: lora|lora_target_modules: [q_proj, lm_head]|'lora_target_modules' names 'lm_head'",
            "adapter:|load_in_4bit: false|'lora_r' is a LoRA setting but adapter is blank",
            "adapter: lora|lora_dropout: 1.5|'lora_dropout' must be in [0, 1)",
            "adapter: lora|datasets: [{path: a.jsonl, type: csv}]|'datasets[0].type' is 'csv'",
            "adapter: lora|datasets: [{path: a.jsonl, type: alpaca, split: train}]|unknown key 'datasets[0].split'",
            "adapter: lora|learning_rate: fast|'learning_rate' must be a number",
    })
    void replacedKeys(String first, String second, String message) {
        String yaml = QLORA.lines().filter(l -> !l.startsWith(first.split(":")[0] + ":") && !l.startsWith(second.split(":")[0] + ":"))
                .filter(l -> !second.startsWith("datasets") || !(l.startsWith("  ") || l.startsWith("datasets")))
                .reduce("", (a, b) -> a + b + "\n");
        if (first.equals("adapter: lora") && !second.startsWith("load_in_4bit")) {
            yaml = yaml.replace("load_in_4bit: true", "load_in_4bit: false");
        }
        String full = yaml + first + "\n" + second + "\n";
        assertThatThrownBy(() -> read(full)).isInstanceOf(ModelFormatException.class).hasMessageContaining(message);
    }

    @Test
    void requiredKeys() {
        assertThatThrownBy(() -> read("adapter: lora\n")).hasMessageContaining("'base_model' is required");
        assertThatThrownBy(() -> read("base_model: m.gguf\nunfrozen_parameters: [x]\nlearning_rate: 1\n")).hasMessageContaining("'datasets' is required");
        assertThatThrownBy(() -> read("base_model: m.gguf\ndatasets: [{path: a, type: completion}]\n")).hasMessageContaining("'learning_rate' is required");
        assertThatThrownBy(() -> read("- a\n- b\n")).hasMessageContaining("must be a YAML mapping");
        assertThatThrownBy(() -> read("base_model: m.gguf\nquant4j_quantize: {type: Q4_K_M, layer: 0-3}\n"))
                .hasMessageContaining("unknown key 'quant4j_quantize.layer'");
        assertThat(List.of()).isEmpty();
    }
}
