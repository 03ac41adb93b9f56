package io.quant4j.train;

import io.quant4j.model.LlamaConfig;
import io.quant4j.model.LlamaWeights;
import io.quant4j.peft.Projection;
import org.junit.jupiter.api.Test;

import java.util.EnumSet;
import java.util.HashSet;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.TreeSet;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;

/** The whole network's backward pass against finite differences of its loss, for every trained tensor. */
class ModelGradientTest {
    private final LlamaConfig config = TinyLlamas.config();
    private final LlamaWeights weights = TinyLlamas.weights(config, 3);
    private final Random random = new Random(5);
    private final int[] tokens = TinyLlamas.tokens(random, 6, config.vocabSize());
    private final boolean[] targets = {false, false, true, true, false, true};

    static Set<String> allTensors(LlamaConfig c) {
        Set<String> names = new HashSet<>(Set.of("model.embed_tokens.weight", "model.norm.weight", "lm_head.weight"));
        for (int l = 0; l < c.nLayers(); l++) {
            names.add("model.layers." + l + ".input_layernorm.weight");
            names.add("model.layers." + l + ".post_attention_layernorm.weight");
            for (Projection p : Projection.values()) {
                names.add(p.moduleName(l) + ".weight");
            }
        }
        return names;
    }

    private void checkAll(TrainableLlama model, long dropoutSeed) {
        model.zeroGradients();
        model.lossAndGradients(tokens, targets, 0.5, dropoutSeed < 0 ? null : new SplittableRandom(dropoutSeed));
        for (Parameter p : model.parameters()) {
            double[] analytic = p.grad().clone();
            GradientCheck.check(p.name(), p.value(), analytic, () -> {
                // a fresh random source with the same seed replays the same dropout masks
                TrainableLlama.LossSum l = dropoutSeed < 0 ? model.loss(tokens, targets)
                        : model.lossAndGradients(tokens, targets, 0, new SplittableRandom(dropoutSeed));
                return 0.5 * l.nll();
            });
        }
    }

    @Test
    void fullTrainingOfEveryTensor() {
        TrainableLlama model = TrainableLlama.build(config, weights, TrainingPlan.full(allTensors(config)), 1);
        assertThat(model.parameters()).hasSize(allTensors(config).size());
        checkAll(model, -1);
    }

    @Test
    void loraOnAllLinearLayersWithDropout() {
        LoraSettings lora = new LoraSettings(2, 4, 0.2, EnumSet.allOf(Projection.class), null);
        TrainableLlama model = TrainableLlama.build(config, weights, TrainingPlan.lora(lora, Set.of()), 9);
        // B starts at zero; give it values so that A's gradient is not trivially zero
        for (Parameter p : model.parameters()) {
            if (p.name().endsWith("lora_B.weight")) {
                System.arraycopy(TinyLlamas.gaussian(random, p.size()), 0, p.value(), 0, p.size());
            }
        }
        assertThat(model.parameters()).hasSize(2 * 7 * config.nLayers());
        checkAll(model, 11);
    }

    @Test
    void loraOnSomeLayersPlusModulesToSave() {
        LoraSettings lora = new LoraSettings(3, 6, 0, EnumSet.of(Projection.Q_PROJ, Projection.V_PROJ), new TreeSet<>(Set.of(1)));
        TrainableLlama model = TrainableLlama.build(config, weights, TrainingPlan.lora(lora, Set.of("lm_head.weight")), 9);
        assertThat(model.parameters().stream().map(Parameter::name).collect(Collectors.toList())).containsExactly(
                "model.layers.1.self_attn.q_proj.lora_A.weight", "model.layers.1.self_attn.q_proj.lora_B.weight",
                "model.layers.1.self_attn.v_proj.lora_A.weight", "model.layers.1.self_attn.v_proj.lora_B.weight",
                "lm_head.weight");
        checkAll(model, -1);
    }

    @Test
    void trainingTheLastLayerStopsTheBackwardPassThereWithTheSameGradients() {
        Set<String> last = allTensors(config).stream()
                .filter(n -> n.startsWith("model.layers.1.") || n.equals("lm_head.weight") || n.equals("model.norm.weight"))
                .collect(Collectors.toSet());
        TrainableLlama partial = TrainableLlama.build(config, weights, TrainingPlan.full(last), 1);
        checkAll(partial, -1);
        TrainableLlama full = TrainableLlama.build(config, weights, TrainingPlan.full(allTensors(config)), 1);
        full.zeroGradients();
        partial.zeroGradients();
        full.lossAndGradients(tokens, targets, 1, null);
        partial.lossAndGradients(tokens, targets, 1, null);
        Map<String, Parameter> byName = full.parameters().stream().collect(Collectors.toMap(Parameter::name, p -> p));
        for (Parameter p : partial.parameters()) {
            assertThat(p.grad()).as(p.name()).containsExactly(byName.get(p.name()).grad());
        }
        // with the frozen layers' output cached, the second pass skips them and computes the same
        TrainableLlama cached = TrainableLlama.build(config, weights, TrainingPlan.full(last), 1);
        assertThat(cached.cacheFrozenPrefix(1 << 20)).isTrue();
        assertThat(full.cacheFrozenPrefix(1 << 20)).isFalse();
        for (int pass = 0; pass < 2; pass++) {
            cached.zeroGradients();
            double loss = cached.lossAndGradients(tokens, targets, 1, null).nll();
            assertThat(loss).isEqualTo(partial.loss(tokens, targets).nll());
            for (int i = 0; i < partial.parameters().size(); i++) {
                assertThat(cached.parameters().get(i).grad()).containsExactly(partial.parameters().get(i).grad());
            }
        }
    }

    @Test
    void distillationTowardsATeachersDistributions() {
        LoraSettings lora = new LoraSettings(2, 4, 0, EnumSet.of(Projection.DOWN_PROJ, Projection.Q_PROJ), null);
        TrainableLlama model = TrainableLlama.build(config, weights, TrainingPlan.lora(lora, Set.of("lm_head.weight")), 9);
        double[] teacher = TrainableLlama.frozen(config, TinyLlamas.weights(config, 4)).logits(tokens);
        model.zeroGradients();
        model.lossAndGradients(tokens, targets, 0.5, null, teacher);
        for (Parameter p : model.parameters()) {
            GradientCheck.check(p.name(), p.value(), p.grad().clone(),
                    () -> 0.5 * model.lossAndGradients(tokens, targets, 0, null, teacher).nll());
        }
    }

    @Test
    void headOnly() {
        TrainableLlama model = TrainableLlama.build(config, weights, TrainingPlan.full(Set.of("lm_head.weight")), 1);
        checkAll(model, -1);
        assertThat(model.cacheFrozenPrefix(1 << 20)).isTrue();
        checkAll(model, -1);
    }
}
