package io.quant4j.quantize;

import io.quant4j.format.gguf.GgufFile;
import io.quant4j.format.gguf.GgufTensorInfo;
import io.quant4j.tensor.GgmlType;
import io.quant4j.testing.Shared;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class QuantizationPlannerTest {

    private static List<QuantizationPlanner.SourceTensor> sources(GgufFile f) {
        return f.tensors().values().stream()
                .map(t -> new QuantizationPlanner.SourceTensor(t.name(), t.shape(), t.type()))
                .toList();
    }

    /** The plan for synth-f32.gguf must give llama.cpp's tensor order and per-tensor types, file by file. */
    @ParameterizedTest
    @CsvSource({
            "synth-mix-Q2_K.gguf, Q2_K, false",
            "synth-mix-Q3_K_M.gguf, Q3_K_M, false",
            "synth-mix-Q3_K_L.gguf, Q3_K_L, false",
            "synth-mix-Q4_0.gguf, Q4_0, false",
            "synth-mix-Q4_K_M.gguf, Q4_K_M, false",
            "synth-mix-Q5_K_M.gguf, Q5_K_M, false",
            "synth-mix-Q8_0.gguf, Q8_0, false",
            "synth-pure-Q2_K.gguf, Q2_K, true",
            "synth-pure-Q3_K_S.gguf, Q3_K_S, true",
            "synth-pure-Q4_0.gguf, Q4_0, true",
            "synth-pure-Q4_1.gguf, Q4_1, true",
            "synth-pure-Q4_K_S.gguf, Q4_K_S, true",
            "synth-pure-Q5_0.gguf, Q5_0, true",
            "synth-pure-Q5_1.gguf, Q5_1, true",
            "synth-pure-Q5_K_S.gguf, Q5_K_S, true",
            "synth-pure-Q6_K.gguf, Q6_K, true",
            "synth-pure-Q8_0.gguf, Q8_0, true",
    })
    void matchesLlamaCppTypesAndOrder(String golden, String ftype, boolean pure) {
        try (GgufFile in = GgufFile.open(Shared.file("golden/quant/synth-f32.gguf"));
             GgufFile ref = GgufFile.open(Shared.file("golden/quant/" + golden))) {
            QuantizationPlanner.Plan plan = QuantizationPlanner.plan(sources(in), 2, 4, 2,
                    QuantizeOptions.of(FileType.parse(ftype)).withPure(pure));
            List<String> expectedNames = ref.tensors().keySet().stream().toList();
            assertThat(plan.tensors()).extracting(PlannedTensor::name).containsExactlyElementsOf(expectedNames);
            for (PlannedTensor p : plan.tensors()) {
                assertThat(p.targetType()).as(p.name()).isEqualTo(ref.tensor(p.name()).type());
            }
            assertThat(ref.metadata().getLong("general.file_type")).isEqualTo(FileType.parse(ftype).id);
        }
    }

    @Test
    void useMoreBitsMatchesTheDocumentedLayersFor32() {
        List<Integer> more = java.util.stream.IntStream.range(0, 32).filter(i -> TensorTypeRules.useMoreBits(i, 32)).boxed().toList();
        assertThat(more).containsExactly(0, 1, 2, 3, 6, 9, 12, 15, 18, 21, 24, 27, 28, 29, 30, 31);
    }

    @Test
    void layerOrderIsNumericNotLexicographic() {
        List<String> names = new java.util.ArrayList<>(List.of("blk.10.attn_v.weight", "blk.2.attn_v.weight", "token_embd.weight", "output.weight"));
        names.sort(QuantizationPlanner.LLAMA_CPP_ORDER);
        assertThat(names).containsExactly("output.weight", "token_embd.weight", "blk.2.attn_v.weight", "blk.10.attn_v.weight");
    }

    /** stories260K: rows of 64 and 172; k-quants fall back to 32-blocks, 172 falls back to F16; Q4_0 is refused. */
    @Test
    void fallbacksForStories260k() {
        try (GgufFile in = GgufFile.open(Shared.file("models/stories260K/stories260K.gguf"))) {
            QuantizationPlanner.Plan plan = QuantizationPlanner.plan(sources(in), 5, 8, 4, QuantizeOptions.of(FileType.Q4_K_M));
            PlannedTensor down = plan.tensors().stream().filter(t -> t.name().equals("blk.0.ffn_down.weight")).findFirst().orElseThrow();
            PlannedTensor q = plan.tensors().stream().filter(t -> t.name().equals("blk.0.attn_q.weight")).findFirst().orElseThrow();
            PlannedTensor embd = plan.tensors().stream().filter(t -> t.name().equals("token_embd.weight")).findFirst().orElseThrow();
            PlannedTensor output = plan.tensors().stream().filter(t -> t.name().equals("output.weight")).findFirst().orElseThrow();
            assertThat(down.targetType()).isEqualTo(GgmlType.F16);
            assertThat(q.targetType()).isEqualTo(GgmlType.Q5_0);
            assertThat(embd.targetType()).isEqualTo(GgmlType.Q5_0);
            assertThat(output.targetType()).isEqualTo(GgmlType.Q8_0); // row 64 % 256 != 0 -> Q8_0, not Q6_K
            assertThat(plan.fallbacks()).isGreaterThan(0);
            assertThatThrownBy(() -> QuantizationPlanner.plan(sources(in), 5, 8, 4, QuantizeOptions.of(FileType.Q4_0)))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("ffn_down").hasMessageContaining("172");
        }
    }

    @Test
    void partialQuantizationKeepsOtherLayersAndOutput() {
        try (GgufFile in = GgufFile.open(Shared.file("golden/quant/synth-f32.gguf"))) {
            QuantizationPlanner.Plan plan = QuantizationPlanner.plan(sources(in), 2, 4, 2,
                    QuantizeOptions.of(FileType.Q4_0).withLayers(LayerSelection.first(1)));
            for (PlannedTensor p : plan.tensors()) {
                GgufTensorInfo t = in.tensor(p.name());
                boolean quantized = p.name().startsWith("blk.0.") && t.shape().length == 2 || p.name().equals("token_embd.weight");
                assertThat(p.targetType()).as(p.name()).isEqualTo(quantized ? GgmlType.Q4_0 : GgmlType.F32);
            }
            assertThatThrownBy(() -> QuantizationPlanner.plan(sources(in), 2, 4, 2,
                    QuantizeOptions.of(FileType.Q4_0).withLayers(LayerSelection.parse("0-5"))))
                    .hasMessageContaining("layers 0-1");
        }
    }

    @Test
    void fallbacksCountOnlyConvertedTensors() {
        try (GgufFile in = GgufFile.open(Shared.file("models/stories260K/stories260K.gguf"))) {
            QuantizationPlanner.Plan all = QuantizationPlanner.plan(sources(in), 5, 8, 4, QuantizeOptions.of(FileType.Q4_K_M));
            QuantizationPlanner.Plan first = QuantizationPlanner.plan(sources(in), 5, 8, 4,
                    QuantizeOptions.of(FileType.Q4_K_M).withLayers(LayerSelection.first(1)));
            assertThat(all.fallbacks()).isEqualTo((int) all.tensors().stream().filter(PlannedTensor::fallback).count());
            assertThat(first.fallbacks()).isEqualTo((int) first.tensors().stream().filter(PlannedTensor::fallback).count())
                    .isLessThan(all.fallbacks());
        }
    }
}
