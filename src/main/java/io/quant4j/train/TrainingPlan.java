package io.quant4j.train;

import io.quant4j.peft.Projection;

import java.util.Set;

/**
 * What is trained on top of a frozen base: LoRA adapters (or none), and tensors trained in full — float copies
 * of just those tensors, named as Hugging Face names them ({@code lm_head.weight},
 * {@code model.layers.4.mlp.up_proj.weight}, {@code model.norm.weight}). A tensor cannot be both.
 */
public record TrainingPlan(LoraSettings lora, Set<String> fullyTrained, boolean allowEmpty) {
    public TrainingPlan(LoraSettings lora, Set<String> fullyTrained) {
        this(lora, fullyTrained, false);
    }

    public TrainingPlan {
        fullyTrained = Set.copyOf(fullyTrained);
        if (lora != null) {
            for (String name : fullyTrained) {
                for (Projection p : lora.targets()) {
                    if (name.endsWith("." + p.path + ".weight")) {
                        int layer = Integer.parseInt(name.split("\\.")[2]);
                        if (lora.adapts(layer, p)) {
                            throw new IllegalArgumentException(name + " is both a LoRA target and trained in full");
                        }
                    }
                }
            }
        }
        if (lora == null && fullyTrained.isEmpty() && !allowEmpty) {
            throw new IllegalArgumentException("nothing to train: no LoRA adapters and no tensors trained in full");
        }
    }

    public static TrainingPlan lora(LoraSettings lora, Set<String> modulesToSave) {
        return new TrainingPlan(lora, modulesToSave);
    }

    public static TrainingPlan full(Set<String> tensors) {
        return new TrainingPlan(null, tensors);
    }

    public boolean trainsFully(String tensorName) {
        return fullyTrained.contains(tensorName);
    }
}
