package io.quant4j.train;

import io.quant4j.peft.Projection;

import java.util.Set;
import java.util.SortedSet;

/**
 * LoRA hyper-parameters as PEFT's LoraConfig names them: rank r, lora_alpha, lora_dropout, the projections
 * adapted (target_modules) and, when not null, only in these layers (layers_to_transform).
 */
public record LoraSettings(int rank, double alpha, double dropout, Set<Projection> targets, SortedSet<Integer> layers) {
    public LoraSettings {
        if (rank < 1) {
            throw new IllegalArgumentException("lora_r must be at least 1, got " + rank);
        }
        if (!(alpha > 0) || Double.isInfinite(alpha)) {
            throw new IllegalArgumentException("lora_alpha must be positive, got " + alpha);
        }
        if (!(dropout >= 0 && dropout < 1)) {
            throw new IllegalArgumentException("lora_dropout must be in [0, 1), got " + dropout);
        }
        if (targets.isEmpty()) {
            throw new IllegalArgumentException("LoRA needs at least one target module");
        }
        targets = Set.copyOf(targets);
    }

    /** PEFT's scaling = lora_alpha / r. */
    public double scale() {
        return alpha / rank;
    }

    public boolean adapts(int layer, Projection p) {
        return targets.contains(p) && (layers == null || layers.contains(layer));
    }
}
