package io.quant4j.train;

import io.quant4j.format.ModelFormatException;
import io.quant4j.format.safetensors.SafetensorsWriter;
import io.quant4j.model.LlamaConfig;
import io.quant4j.model.LlamaWeights;
import io.quant4j.peft.AdapterApplier;
import io.quant4j.peft.LoraMatrix;
import io.quant4j.peft.PeftAdapter;
import io.quant4j.peft.PeftConfig;
import io.quant4j.tensor.WeightMatrix;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Adapter folders as PEFT writes them, and the ones quant4j must refuse. */
class PeftAdapterFilesTest {
    @TempDir
    Path dir;

    private final LlamaConfig config = TinyLlamas.config();
    private final LlamaWeights weights = TinyLlamas.weights(config, 1);

    private Path adapter(String configJson, String... extraTensors) throws IOException {
        Files.writeString(dir.resolve("adapter_config.json"), configJson);
        SafetensorsWriter w = new SafetensorsWriter();
        Random r = new Random(3);
        float[] a = new float[2 * 8];
        float[] b = new float[8 * 2];
        for (int i = 0; i < a.length; i++) {
            a[i] = (float) r.nextGaussian();
            b[i] = (float) r.nextGaussian();
        }
        w.addF32("base_model.model.model.layers.1.mlp.up_proj.lora_A.default.weight", a, 2, 8); // older PEFT naming
        w.addF32("base_model.model.model.layers.1.mlp.up_proj.lora_B.default.weight", new float[12 * 2], 12, 2);
        w.addF32("base_model.model.model.layers.0.self_attn.v_proj.lora_A.weight", a, 2, 8);
        w.addF32("base_model.model.model.layers.0.self_attn.v_proj.lora_B.weight", java.util.Arrays.copyOf(b, 4 * 2), 4, 2);
        for (String t : extraTensors) {
            w.addF32(t, new float[4], 2, 2);
        }
        w.write(dir.resolve("adapter_model.safetensors"));
        return dir;
    }

    private static final String LORA = """
            {"peft_type": "LORA", "task_type": "CAUSAL_LM", "r": 2, "lora_alpha": 16, "target_modules": "all-linear",
             "bias": "none", "use_rslora": %s, "rank_pattern": {}, "modules_to_save": null}
            """;

    @Test
    void readsPeftsOwnLayoutAndScaling() throws IOException {
        PeftAdapter adapter = PeftAdapter.read(adapter(LORA.formatted("false")));
        assertThat(adapter.config().targetModules()).hasSize(7);
        assertThat(adapter.config().scaling()).isEqualTo(8.0);
        assertThat(PeftAdapter.read(adapter(LORA.formatted("true"))).config().scaling()).isCloseTo(16 / Math.sqrt(2), org.assertj.core.data.Offset.offset(1e-12));
        LlamaWeights adapted = AdapterApplier.apply(config, weights, adapter, dir, Arena.ofAuto());
        WeightMatrix v = adapted.layers().get(0).attnV();
        assertThat(v).isInstanceOf(LoraMatrix.class);
        assertThat(adapted.layers().get(1).ffnUp()).isInstanceOf(LoraMatrix.class);
        assertThat(adapted.layers().get(0).attnQ()).isSameAs(weights.layers().get(0).attnQ());
        // dot, matVec and the merged row agree: W x + scale · B (A x)
        float[] x = new float[8];
        for (int i = 0; i < 8; i++) {
            x[i] = i * 0.25f - 1;
        }
        float[] out = new float[4];
        v.matVec(x, out, 0, 4);
        float[] row = new float[8];
        for (int r = 0; r < 4; r++) {
            v.dequantizeRow(r, row, 0);
            float merged = 0;
            for (int i = 0; i < 8; i++) {
                merged += row[i] * x[i];
            }
            assertThat(out[r]).isCloseTo(v.dot(r, x, 0), org.assertj.core.data.Offset.offset(1e-5f));
            assertThat(out[r]).isCloseTo(merged, org.assertj.core.data.Offset.offset(1e-4f));
            assertThat(Math.abs(out[r] - weights.layers().get(0).attnV().dot(r, x, 0))).isGreaterThan(1e-3f);
        }
    }

    @Test
    void refusesWhatItCannotApply() throws IOException {
        assertThatThrownBy(() -> PeftAdapter.read(dir.resolve("missing"))).isInstanceOf(ModelFormatException.class)
                .hasMessageContaining("no such adapter folder");
        assertThatThrownBy(() -> PeftAdapter.read(adapter(LORA.formatted("false").replace("\"LORA\"", "\"IA3\""))))
                .hasMessageContaining("peft_type is 'IA3'");
        assertThatThrownBy(() -> PeftAdapter.read(adapter(LORA.formatted("false").replace("\"bias\": \"none\"", "\"use_dora\": true"))))
                .hasMessageContaining("DoRA");
        assertThatThrownBy(() -> PeftAdapter.read(adapter(LORA.formatted("false").replace("\"rank_pattern\": {}", "\"rank_pattern\": {\"q_proj\": 4}"))))
                .hasMessageContaining("rank_pattern");
        PeftAdapter extra = PeftAdapter.read(adapter(LORA.formatted("false"), "base_model.model.model.layers.7.mlp.up_proj.lora_A.weight"));
        assertThatThrownBy(() -> AdapterApplier.apply(config, weights, extra, dir, Arena.ofAuto()))
                .hasMessageContaining("model.layers.7.mlp.up_proj.lora_A.weight").hasMessageContaining("layers 0-1");
        PeftAdapter head = PeftAdapter.read(adapter(LORA.formatted("false"), "base_model.model.lm_head.weight"));
        assertThatThrownBy(() -> AdapterApplier.apply(config, weights, head, dir, Arena.ofAuto()))
                .hasMessageContaining("lm_head.weight is 2x2, the model's is 11x8");
        Files.delete(dir.resolve("adapter_model.safetensors"));
        assertThatThrownBy(() -> PeftAdapter.read(dir)).hasMessageContaining("no adapter_model.safetensors");
        assertThat(PeftConfig.FILE_NAME).isEqualTo("adapter_config.json");
    }
}
