package io.quant4j.train;

import java.util.Locale;

/**
 * Learning-rate schedules as transformers' get_scheduler defines them, as a factor of the peak rate at optimizer
 * step {@code step} (0-based) of {@code total}: linear warmup from 0 over {@code warmup} steps, then constant,
 * linear decay to 0, or half a cosine to 0. Plain {@code constant} has no warmup, as in transformers.
 */
public enum LrSchedule {
    CONSTANT, CONSTANT_WITH_WARMUP, LINEAR, COSINE;

    public static LrSchedule parse(String name) {
        try {
            return valueOf(name.trim().toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("unknown lr_scheduler '" + name + "' (constant, constant_with_warmup, linear, cosine)");
        }
    }

    public boolean usesWarmup() {
        return this != CONSTANT;
    }

    public double factor(long step, long warmup, long total) {
        if (this == CONSTANT) {
            return 1;
        }
        if (step < warmup) {
            return (double) step / Math.max(1, warmup);
        }
        double progress = (double) (step - warmup) / Math.max(1, total - warmup);
        return switch (this) {
            case CONSTANT_WITH_WARMUP -> 1;
            case LINEAR -> Math.max(0, (double) (total - step) / Math.max(1, total - warmup));
            case COSINE -> Math.max(0, 0.5 * (1 + Math.cos(Math.PI * progress)));
            case CONSTANT -> 1;
        };
    }

    /** transformers' warmup steps from a ratio: ceil(total · ratio). */
    public static long warmupSteps(double ratio, long total) {
        return (long) Math.ceil(total * ratio);
    }
}
