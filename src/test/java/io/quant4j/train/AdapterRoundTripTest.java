package io.quant4j.train;

import com.fasterxml.jackson.databind.JsonNode;
import io.quant4j.convert.GgufExporter;
import io.quant4j.convert.HuggingFaceExporter;
import io.quant4j.format.Json;
import io.quant4j.format.gguf.GgufFile;
import io.quant4j.format.safetensors.SafetensorsFile;
import io.quant4j.model.LlamaSession;
import io.quant4j.model.ModelWeights;
import io.quant4j.peft.PeftAdapter;
import io.quant4j.peft.Projection;
import io.quant4j.peft.RopeRowOrder;
import io.quant4j.quantize.FileType;
import io.quant4j.quantize.GgufQuantizer;
import io.quant4j.quantize.LayerSelection;
import io.quant4j.quantize.QuantizeOptions;
import io.quant4j.quantize.bnb.BnbModel;
import io.quant4j.quantize.bnb.BnbOptions;
import io.quant4j.peft.LoraMatrix;
import io.quant4j.tensor.WeightMatrix;
import io.quant4j.tensor.bnb.Blockwise4bitMatrix;
import io.quant4j.runtime.LoadedModel;
import io.quant4j.tensor.GgmlType;
import io.quant4j.testing.Shared;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.EnumSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.TreeSet;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Train a few steps → save the PEFT adapter → load it on the base → the same logits as in memory; merge it →
 * the same logits again; and the adapter applies to the Hugging Face copy of the model (rotate-half q/k) too.
 */
class AdapterRoundTripTest {
    @TempDir
    Path dir;

    private final int[] tokens = sequence();

    private static int[] sequence() {
        int[] t = TinyLlamas.tokens(new Random(8), 40, 512);
        t[0] = 1;
        return t;
    }

    /** LoRA on every projection of layers 0-3; layer 4's q/k and norm, the final norm and lm_head trained in full. */
    private static TrainingPlan plan() {
        LoraSettings lora = new LoraSettings(4, 8, 0.1, EnumSet.allOf(Projection.class), new TreeSet<>(Set.of(0, 1, 2, 3)));
        return TrainingPlan.lora(lora, Set.of("model.layers.4.self_attn.q_proj.weight", "model.layers.4.self_attn.k_proj.weight",
                "model.layers.4.input_layernorm.weight", "model.norm.weight", "lm_head.weight"));
    }

    private TrainableLlama trained(ModelWeights base) {
        TrainableLlama model = TrainableLlama.build(base.config(), base.weights(), plan(), 1);
        AdamW adam = new AdamW(model.parameters(), AdamW.Settings.DEFAULT);
        boolean[] targets = new boolean[tokens.length];
        java.util.Arrays.fill(targets, true);
        for (int step = 0; step < 3; step++) {
            model.zeroGradients();
            model.lossAndGradients(tokens, targets, 1.0 / tokens.length, new java.util.SplittableRandom(step));
            adam.step(2e-2);
        }
        return model;
    }

    private double maxDifference(double[] expected, LoadedModel m) {
        LlamaSession s = m.llama().newSession(tokens.length);
        int vocab = 512;
        double max = 0;
        for (int t = 0; t < tokens.length; t++) {
            float[] logits = s.forward(tokens[t]);
            for (int i = 0; i < vocab; i++) {
                max = Math.max(max, Math.abs(logits[i] - expected[t * vocab + i]));
            }
        }
        return max;
    }

    @Test
    void onAPartiallyQuantizedBase() {
        Path base = dir.resolve("base.gguf");
        GgufQuantizer.quantize(Shared.file("models/stories260K/stories260K.gguf"), base,
                QuantizeOptions.of(FileType.Q3_K_S).withLayers(LayerSelection.parse("0-3")), null, null);
        Path adapterDir = dir.resolve("adapter");
        double[] expected;
        try (ModelWeights weights = io.quant4j.model.ModelLoader.loadWeights(base)) {
            assertThat(weights.weights().layers().get(0).attnQ().type()).isEqualTo(GgmlType.IQ4_NL);
            TrainableLlama model = trained(weights);
            expected = model.logits(tokens);
            AdapterExport.of(model, plan(), "stories260K").write(adapterDir);
        }
        try (LoadedModel plain = LoadedModel.load(base, null)) {
            assertThat(maxDifference(expected, plain)).as("the adapter changes the logits").isGreaterThan(1e-2);
        }
        try (LoadedModel adapted = LoadedModel.load(base, null, adapterDir)) {
            assertThat(maxDifference(expected, adapted)).isLessThan(1e-4);
            GgufExporter.write(adapted, dir.resolve("merged.gguf"));
        }
        try (LoadedModel merged = LoadedModel.load(dir.resolve("merged.gguf"), null)) {
            assertThat(maxDifference(expected, merged)).isLessThan(1e-4);
        }
        try (GgufFile merged = GgufFile.open(dir.resolve("merged.gguf"))) {
            // untouched quantized tensors are copied as they are; merged ones are F32
            assertThat(merged.tensor("token_embd.weight").type()).isEqualTo(GgmlType.IQ4_NL);
            assertThat(merged.tensor("blk.0.attn_q.weight").type()).isEqualTo(GgmlType.F32);
            assertThat(merged.tensor("blk.4.ffn_up.weight").type()).isEqualTo(GgmlType.F32);
        }
    }

    /**
     * QLoRA's round trip: train on stories260K quantized to NF4 + double quantization at load, save the adapter, load
     * it as {@code --lora DIR --load-in-4bit --bnb-4bit-quant-type nf4 --double-quant} does (quantize the same base
     * again, then wrap its NF4 projections): the logits agree with the trained model's in memory within 1e-4 (training
     * runs in double, inference in float).
     */
    @Test
    void onAnNf4BaseQuantizedAtLoad() {
        Path stories = Shared.file("models/stories260K/stories260K.gguf");
        BnbOptions nf4 = BnbOptions.fourBit("nf4", true, 64);
        Path adapterDir = dir.resolve("adapter");
        double[] expected;
        try (ModelWeights weights = BnbModel.quantize(io.quant4j.model.ModelLoader.loadWeights(stories), nf4)) {
            assertThat(weights.weights().layers().get(0).attnQ()).isInstanceOf(Blockwise4bitMatrix.class);
            TrainableLlama model = trained(weights);
            expected = model.logits(tokens);
            AdapterExport.of(model, plan(), "stories260K").write(adapterDir);
        }
        try (LoadedModel plain = nf4(stories, nf4)) {
            assertThat(maxDifference(expected, plain)).as("the adapter changes the logits").isGreaterThan(1e-2);
        }
        try (LoadedModel adapted = nf4(stories, nf4).withAdapter(adapterDir)) {
            WeightMatrix q0 = adapted.weights().weights().layers().get(0).attnQ();
            assertThat(q0).isInstanceOf(LoraMatrix.class);
            assertThat(((LoraMatrix) q0).base()).isInstanceOf(Blockwise4bitMatrix.class);
            assertThat(q0.format()).isEqualTo("NF4 b64 +DQ");
            assertThat(maxDifference(expected, adapted)).isLessThan(1e-4);
        }
    }

    private static LoadedModel nf4(Path model, BnbOptions o) {
        LoadedModel loaded = LoadedModel.load(model, null);
        return loaded.withWeights(BnbModel.quantize(loaded.weights(), o));
    }

    @Test
    void peftNamesShapesConfigAndTheHuggingFaceLayout() throws Exception {
        Path adapterDir = dir.resolve("adapter");
        double[] expected;
        TrainableLlama model;
        try (ModelWeights weights = io.quant4j.model.ModelLoader.loadWeights(Shared.file("models/stories260K/stories260K.gguf"))) {
            model = trained(weights);
            expected = model.logits(tokens);
            AdapterExport.of(model, plan(), "stories260K").write(adapterDir);
        }
        JsonNode config = Json.mapper().readTree(adapterDir.resolve("adapter_config.json").toFile());
        assertThat(config.get("peft_type").asText()).isEqualTo("LORA");
        assertThat(config.get("task_type").asText()).isEqualTo("CAUSAL_LM");
        assertThat(config.get("r").asInt()).isEqualTo(4);
        assertThat(config.get("lora_alpha").asDouble()).isEqualTo(8.0);
        assertThat(config.get("lora_dropout").asDouble()).isEqualTo(0.1);
        assertThat(config.get("target_modules").toString())
                .isEqualTo("[\"q_proj\",\"k_proj\",\"v_proj\",\"o_proj\",\"gate_proj\",\"up_proj\",\"down_proj\"]");
        assertThat(config.get("layers_to_transform").toString()).isEqualTo("[0,1,2,3]");
        assertThat(config.get("modules_to_save").toString()).contains("\"lm_head\"", "\"model.norm\"", "\"model.layers.4.self_attn.q_proj\"");
        assertThat(config.get("base_model_name_or_path").asText()).isEqualTo("stories260K");

        try (SafetensorsFile f = SafetensorsFile.open(adapterDir.resolve(PeftAdapter.WEIGHTS_FILE))) {
            assertThat(f.tensor("base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight").shape()).containsExactly(4, 64);
            assertThat(f.tensor("base_model.model.model.layers.0.self_attn.k_proj.lora_B.weight").shape()).containsExactly(32, 4);
            assertThat(f.tensor("base_model.model.model.layers.3.mlp.down_proj.lora_A.weight").shape()).containsExactly(4, 172);
            assertThat(f.tensor("base_model.model.lm_head.weight").shape()).containsExactly(512, 64);
            assertThat(f.tensor("base_model.model.model.norm.weight").shape()).containsExactly(64);
            assertThat(f.tensors()).hasSize(4 * 7 * 2 + 5);
            // q_proj's lora_B rows are stored in HF's rotate-half order: GGUF row 1 (head 0, pair 0, second) is HF row 4
            Parameter b = model.parameters().stream().filter(p -> p.name().equals("model.layers.0.self_attn.q_proj.lora_B.weight")).findFirst().orElseThrow();
            var stored = io.quant4j.tensor.WeightMatrix.of(GgmlType.F32, f.data("base_model.model.model.layers.0.self_attn.q_proj.lora_B.weight"), 64, 4);
            float[] row = new float[4];
            stored.dequantizeRow(RopeRowOrder.hfRow(1, 8), row, 0);
            assertThat(RopeRowOrder.hfRow(1, 8)).isEqualTo(4);
            for (int j = 0; j < 4; j++) {
                assertThat((double) row[j]).isEqualTo((float) b.value()[4 + j], org.assertj.core.data.Offset.offset(0.0));
            }
        }
        // the Hugging Face copy of stories260K stores q/k in rotate-half order: with the adapter it computes the same
        Path stories = Shared.file("models/stories260K/stories260K.gguf");
        try (LoadedModel hf = LoadedModel.load(Shared.file("models/stories260K/hf"), null, adapterDir);
             LoadedModel gguf = LoadedModel.load(stories, null, adapterDir)) {
            assertThat(maxDifference(expected, gguf)).isLessThan(1e-4);
            assertThat(maxDifference(expected, hf)).isLessThan(1e-4);
            // merged into a Hugging Face folder (q/k back in rotate-half order), read by the HF loader
            HuggingFaceExporter.write(gguf, dir.resolve("merged-hf"), GgmlType.F32);
        }
        try (LoadedModel merged = LoadedModel.load(dir.resolve("merged-hf"), stories)) {
            assertThat(maxDifference(expected, merged)).isLessThan(1e-4);
        }
        List<String> names = PeftAdapter.read(adapterDir).tensors().keySet().stream().sorted().toList();
        assertThat(names).contains("lm_head.weight", "model.layers.2.mlp.up_proj.lora_B.weight");
    }
}
