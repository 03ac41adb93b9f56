package io.quant4j.train.job;

import io.quant4j.format.ModelFormatException;
import io.quant4j.model.LlamaConfig;
import io.quant4j.model.LlamaWeights;
import io.quant4j.peft.Projection;
import io.quant4j.quantize.FileType;
import io.quant4j.quantize.GgufQuantizer;
import io.quant4j.quantize.QuantizeOptions;
import io.quant4j.runtime.LoadedModel;
import io.quant4j.tensor.GgmlType;
import io.quant4j.tensor.WeightMatrix;
import io.quant4j.tensor.bnb.Blockwise4bitMatrix;
import io.quant4j.tensor.bnb.Int8Matrix;
import io.quant4j.testing.Shared;
import io.quant4j.train.FrozenLinear;
import io.quant4j.train.Linear;
import io.quant4j.train.LoraLinear;
import io.quant4j.train.TrainableLlama;
import io.quant4j.train.config.FinetuneConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** What a load_in_4bit / load_in_8bit config trains on: the frozen projections are bitsandbytes matrices, nothing else. */
class BitsandbytesBaseTest {
    @TempDir
    Path dir;

    private final StringWriter log = new StringWriter();

    private FinetuneConfig config(Path base, String keys) throws IOException {
        Path p = dir.resolve("c.yml");
        Files.writeString(p, "base_model: " + base + "\n" + keys + "\nlora_r: 4\nlora_target_linear: true\n"
                + "datasets: [{path: d.jsonl, type: completion}]\nlearning_rate: 1e-3\noutput_dir: " + dir.resolve("out") + "\n");
        return FinetuneConfig.read(p);
    }

    private static Path stories() {
        return Shared.file("models/stories260K/stories260K.gguf");
    }

    /** Every projection's frozen base under its LoRA adapter, as the training engine holds it. */
    private static void assertFrozenBasesAre(FinetuneConfig config, LoadedModel model, Class<? extends WeightMatrix> type, String format) {
        LlamaConfig c = model.weights().config();
        TrainableLlama trainable = TrainableLlama.build(c, model.weights().weights(), FinetuneJob.plan(config, c), 1);
        for (int l = 0; l < c.nLayers(); l++) {
            for (Linear linear : trainable.linears(l)) {
                assertThat(linear).isInstanceOf(LoraLinear.class);
                Linear base = ((LoraLinear) linear).base();
                assertThat(base).isInstanceOf(FrozenLinear.class);
                WeightMatrix w = ((FrozenLinear) base).weight();
                assertThat(w).as("layer " + l).isInstanceOf(type);
                assertThat(w.format()).isEqualTo(format);
            }
        }
        // bitsandbytes keeps the embedding and lm_head: they stay as stored (F32 here), frozen
        LlamaWeights w = model.weights().weights();
        assertThat(w.tokenEmbedding().type()).isEqualTo(GgmlType.F32);
        assertThat(((FrozenLinear) trainable.head()).weight().type()).isEqualTo(GgmlType.F32);
    }

    @Test
    void qloraTrainsOnNf4WithDoubleQuantization() throws IOException {
        FinetuneConfig config = config(stories(), "load_in_4bit: true\nadapter: qlora");
        try (LoadedModel model = FinetuneJob.loadBase(config, stories(), new PrintWriter(log, true))) {
            assertFrozenBasesAre(config, model, Blockwise4bitMatrix.class, "NF4 b64 +DQ");
            Blockwise4bitMatrix down = (Blockwise4bitMatrix) Projection.DOWN_PROJ.of(model.weights().weights().layers().get(4));
            assertThat(down.quantType()).isEqualTo("nf4");
            assertThat(down.absmax().nested()).isTrue();
            assertThat(down.cols()).isEqualTo(172); // blocks of the flattened weight: no F16 fallback for 172-wide rows
        }
        assertThat(log.toString()).contains("load_in_4bit: bitsandbytes NF4 blocksize 64 + double quant on every decoder linear layer");
    }

    @Test
    void quantTypeAndDoubleQuantFromTheConfig() throws IOException {
        FinetuneConfig config = config(stories(), "load_in_4bit: true\nadapter: qlora\nbnb_4bit_quant_type: fp4\nbnb_4bit_use_double_quant: false");
        try (LoadedModel model = FinetuneJob.loadBase(config, stories(), new PrintWriter(log, true))) {
            assertFrozenBasesAre(config, model, Blockwise4bitMatrix.class, "FP4 b64");
        }
    }

    @Test
    void loadIn8bitTrainsOnLlmInt8() throws IOException {
        FinetuneConfig config = config(stories(), "load_in_8bit: true\nadapter: lora");
        try (LoadedModel model = FinetuneJob.loadBase(config, stories(), new PrintWriter(log, true))) {
            assertFrozenBasesAre(config, model, Int8Matrix.class, "LLM.int8 t6.0");
        }
    }

    @Test
    void anAlreadyQuantizedBaseIsRefusedNamingTheKey() throws IOException {
        Path quantized = dir.resolve("q3ks.gguf"); // the mix falls back to IQ4_NL on these 64-wide rows
        GgufQuantizer.quantize(stories(), quantized, QuantizeOptions.of(FileType.Q3_K_S), null, null);
        FinetuneConfig config = config(quantized, "load_in_4bit: true\nadapter: qlora");
        assertThatThrownBy(() -> FinetuneJob.loadBase(config, quantized, new PrintWriter(log, true))).isInstanceOf(ModelFormatException.class)
                .hasMessageContaining("c.yml: 'load_in_4bit' on base_model " + quantized + ": bitsandbytes quantization needs F32/F16/BF16 weights")
                .hasMessageNotContaining("\n");
    }
}
