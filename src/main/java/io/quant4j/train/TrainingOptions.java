package io.quant4j.train;

/**
 * The training loop's settings, named after Axolotl's keys.
 *
 * @param epochs        num_epochs (used when maxSteps ≤ 0)
 * @param maxSteps      max_steps, or ≤ 0 to run num_epochs
 * @param warmupSteps   warmup_steps, or < 0 to take ceil(total · warmupRatio)
 * @param maxGradNorm   max_grad_norm, or ≤ 0 for no clipping
 * @param evalSteps     evaluate the held-out set every this many steps (and at the start and end); ≤ 0: start and end only
 * @param saveSteps     write a checkpoint every this many steps; ≤ 0: none
 * @param saveTotalLimit keep only the newest this many checkpoints; ≤ 0: keep all
 * @param loggingSteps  print a progress line every this many steps (the CSV gets every step)
 */
public record TrainingOptions(
        int microBatchSize,
        int gradientAccumulationSteps,
        double epochs,
        long maxSteps,
        double learningRate,
        LrSchedule schedule,
        double warmupRatio,
        long warmupSteps,
        AdamW.Settings adam,
        double maxGradNorm,
        long seed,
        long evalSteps,
        long saveSteps,
        int saveTotalLimit,
        long loggingSteps) {

    public TrainingOptions {
        if (microBatchSize < 1 || gradientAccumulationSteps < 1) {
            throw new IllegalArgumentException("micro_batch_size and gradient_accumulation_steps must be at least 1");
        }
        if (maxSteps <= 0 && !(epochs > 0)) {
            throw new IllegalArgumentException("num_epochs must be positive (or give max_steps)");
        }
        if (!(learningRate > 0) || Double.isInfinite(learningRate)) {
            throw new IllegalArgumentException("learning_rate must be positive, got " + learningRate);
        }
        if (!(warmupRatio >= 0 && warmupRatio <= 1)) {
            throw new IllegalArgumentException("warmup_ratio must be in [0, 1], got " + warmupRatio);
        }
    }

    public int sequencesPerStep() {
        return microBatchSize * gradientAccumulationSteps;
    }

    /** Optimizer steps for {@code trainingSequences}: max_steps, else ceil(epochs · sequences / sequences per step). */
    public long totalSteps(int trainingSequences) {
        if (maxSteps > 0) {
            return maxSteps;
        }
        return Math.max(1, (long) Math.ceil(epochs * trainingSequences / sequencesPerStep()));
    }

    public long warmup(long total) {
        return warmupSteps >= 0 ? warmupSteps : LrSchedule.warmupSteps(warmupRatio, total);
    }
}
