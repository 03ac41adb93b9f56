package io.quant4j.train.config;

import io.quant4j.format.ModelFormatException;
import io.quant4j.peft.Projection;
import io.quant4j.quantize.FileType;
import io.quant4j.quantize.bnb.BnbOptions;
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
        // QLoRA's and Axolotl's defaults for adapter: qlora: bitsandbytes NF4 with double quantization, blocks of 64
        assertThat(c.baseQuantization().isBitsandbytes()).isTrue();
        assertThat(c.baseQuantization().fileType()).isNull();
        assertThat(c.baseQuantization().bnb()).isEqualTo(BnbOptions.fourBit("nf4", true, 64));
        assertThat(c.baseQuantization().describe()).isEqualTo("load_in_4bit NF4 blocksize 64 + double quant");
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

    @Test
    void bitsandbytesKeys() throws IOException {
        FinetuneConfig fp4 = read(QLORA + "bnb_4bit_quant_type: fp4\nbnb_4bit_use_double_quant: false\nbnb_4bit_compute_dtype: bfloat16\n");
        assertThat(fp4.baseQuantization().bnb()).isEqualTo(BnbOptions.fourBit("fp4", false, 64));
        assertThat(fp4.notes()).anyMatch(n -> n.contains("'bnb_4bit_compute_dtype'"));
        // Axolotl's overrides of its 4-bit config
        FinetuneConfig kwargs = read(QLORA + "bnb_config_kwargs: {bnb_4bit_quant_type: fp4, bnb_4bit_use_double_quant: true}\n");
        assertThat(kwargs.baseQuantization().bnb()).isEqualTo(BnbOptions.fourBit("fp4", true, 64));
        // load_in_8bit: LLM.int8, with the outlier threshold the evaluation flags carry
        FinetuneConfig int8 = read(QLORA.replace("load_in_8bit: false", "load_in_8bit: true").replace("load_in_4bit: true", "load_in_4bit: false")
                .replace("adapter: qlora", "adapter: lora") + "llm_int8_threshold: 4.5\n");
        assertThat(int8.baseQuantization().key()).isEqualTo("load_in_8bit");
        assertThat(int8.baseQuantization().bnb()).isEqualTo(BnbOptions.int8(4.5f));
        assertThat(int8.baseQuantization().bnb().cliFlags()).isEqualTo("--load-in-8bit --llm-int8-threshold 4.5");
        assertThat(read(QLORA).baseQuantization().bnb().cliFlags()).isEqualTo("--load-in-4bit --bnb-4bit-quant-type nf4 --double-quant");
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "bnb_4bit_quant_type: int4|'bnb_4bit_quant_type' must be nf4 or fp4, got 'int4'",
            "bnb_4bit_use_double_quant: maybe|'bnb_4bit_use_double_quant' must be true or false",
            "bnb_4bit_compute_dtype: float64|'bnb_4bit_compute_dtype' is 'float64'; expected a torch dtype name",
            "llm_int8_threshold: 5|'llm_int8_threshold' applies to load_in_8bit: true",
            "bnb_config_kwargs: {bnb_4bit_blocksize: 32}|unknown key 'bnb_config_kwargs.bnb_4bit_blocksize'",
            "bnb_config_kwargs: nf4|'bnb_config_kwargs' must be a mapping",
    })
    void badBitsandbytesKeysNameTheKey(String extra, String message) {
        assertThatThrownBy(() -> read(QLORA + extra + "\n")).isInstanceOf(ModelFormatException.class)
                .hasMessageContaining("config.yml: " + message).hasMessageNotContaining("\n");
    }

    @Test
    void bitsandbytesKeysNeedTheirLoadFlag() {
        assertThatThrownBy(() -> read(QLORA + "bnb_4bit_quant_type: nf4\nbnb_config_kwargs: {bnb_4bit_quant_type: fp4}\n"))
                .hasMessageContaining("'bnb_config_kwargs.bnb_4bit_quant_type' is also given at the top level");
        String lora = QLORA.replace("load_in_4bit: true", "load_in_4bit: false").replace("adapter: qlora", "adapter: lora");
        assertThatThrownBy(() -> read(lora + "bnb_4bit_quant_type: nf4\n")).hasMessageContaining("'bnb_4bit_quant_type' applies to load_in_4bit: true");
        assertThatThrownBy(() -> read(lora + "bnb_config_kwargs: {bnb_4bit_use_double_quant: true}\n")).hasMessageContaining("'bnb_config_kwargs.bnb_4bit_use_double_quant' applies to load_in_4bit: true");
        assertThatThrownBy(() -> read(lora.replace("load_in_8bit: false", "load_in_8bit: true") + "llm_int8_has_fp16_weight: true\n"))
                .hasMessageContaining("'llm_int8_has_fp16_weight' is not supported");
        // nf4/fp4/int8 are bitsandbytes formats of every linear layer: the partial recipe refuses them, saying what to use
        assertThatThrownBy(() -> read("base_model: m.gguf\nquant4j_quantize: {type: nf4, layers: 0-3}\nunfrozen_parameters: [x]\n"
                + "datasets: [{path: a, type: completion}]\nlearning_rate: 1\n"))
                .hasMessageContaining("'quant4j_quantize.type' is nf4, a bitsandbytes type: use load_in_4bit: true").hasMessageNotContaining("\n");
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
