package io.quant4j.train;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import java.util.SplittableRandom;

/**
 * The training loop: each optimizer step takes micro_batch_size × gradient_accumulation_steps sequences from a
 * stream of seeded per-epoch shuffles, adds their gradients with the loss normalized by the step's total number of
 * target tokens (as transformers does with gradient accumulation), clips the gradient norm, sets the scheduled
 * learning rate and takes an AdamW step. Progress lines, loss curves, held-out evaluations and checkpoints go to
 * the output directory; everything random is derived from the seed and the step, so a resumed run continues
 * exactly as an uninterrupted one.
 */
public final class Trainer {
    /** Writes the adapter (or trained tensors) of the current parameters into a directory. */
    @FunctionalInterface
    public interface ModelSaver {
        void save(Path dir);
    }

    /** What a finished run reports. */
    public record Result(long steps, double lastTrainLoss, double lastValLoss, double tokensPerSecond) {
    }

    private final TrainableLlama model;
    private final TrainingOptions options;
    private final List<TrainingExample> train;
    private final List<TrainingExample> validation;
    private final Path outputDir;
    private final PrintWriter out;
    private final ModelSaver saver;
    private TrainableLlama teacher;

    public Trainer(TrainableLlama model, TrainingOptions options, List<TrainingExample> train, List<TrainingExample> validation,
                   Path outputDir, ModelSaver saver, PrintWriter out) {
        if (train.isEmpty()) {
            throw new IllegalArgumentException("the training set is empty");
        }
        this.model = model;
        this.options = options;
        this.train = List.copyOf(train);
        this.validation = List.copyOf(validation);
        this.outputDir = outputDir;
        this.saver = saver;
        this.out = out;
    }

    /**
     * Distills from {@code teacher} (e.g. the unquantized model): each target position is trained towards the
     * teacher's whole next-token distribution on the same text instead of the one token in the data. Validation
     * stays the plain next-token loss, comparable with perplexity.
     */
    public Trainer distillingFrom(TrainableLlama teacher) {
        if (teacher.config().vocabSize() != model.config().vocabSize()) {
            throw new IllegalArgumentException("the teacher's vocabulary (" + teacher.config().vocabSize() + ") differs from the model's ("
                    + model.config().vocabSize() + ")");
        }
        this.teacher = teacher;
        return this;
    }

    /** Trains to the end, starting from the latest checkpoint in the output directory when {@code resume}. */
    public Result run(boolean resume) {
        List<Parameter> params = model.parameters();
        AdamW optimizer = new AdamW(params, options.adam());
        long total = options.totalSteps(train.size());
        long warmup = options.warmup(total);
        long start = 0;
        try {
            Files.createDirectories(outputDir);
        } catch (IOException e) {
            throw new UncheckedIOException(outputDir + ": cannot create the output directory", e);
        }
        if (resume) {
            Path checkpoint = TrainingCheckpoint.latest(outputDir).orElseThrow(() ->
                    new IllegalArgumentException(outputDir + ": --resume given but there is no checkpoint-N folder to resume from"));
            start = TrainingCheckpoint.load(checkpoint, optimizer);
            out.printf("resuming from %s (step %d of %d)%n", checkpoint, start, total);
        }
        TrainingLog log = TrainingLog.open(outputDir, resume ? start : -1);
        long trainable = params.stream().mapToLong(Parameter::size).sum();
        out.printf("training %,d parameters in %d tensors; %d training / %d validation sequences; %d steps of %d sequences"
                        + " (micro-batch %d x accumulation %d), warmup %d, %s schedule, peak lr %.3g%n",
                trainable, params.size(), train.size(), validation.size(), total, options.sequencesPerStep(),
                options.microBatchSize(), options.gradientAccumulationSteps(), warmup,
                options.schedule().name().toLowerCase(java.util.Locale.ROOT), options.learningRate());
        if (teacher != null) {
            out.println("distilling: the training loss is the cross-entropy against the teacher's next-token distributions");
        }

        double valLoss = Double.NaN;
        if (!resume && !validation.isEmpty()) {
            valLoss = evaluate(log, 0);
        }
        long tokensSeen = 0;
        double lastLoss = Double.NaN;
        long begin = System.nanoTime();
        for (long step = start; step < total; step++) {
            List<TrainingExample> batch = batch(step);
            int targets = batch.stream().mapToInt(TrainingExample::targetCount).sum();
            model.zeroGradients();
            TrainableLlama.LossSum loss = new TrainableLlama.LossSum(0, 0);
            SplittableRandom dropout = new SplittableRandom(options.seed() * 0x9E3779B97F4A7C15L + step);
            for (TrainingExample e : batch) {
                double[] soft = teacher == null ? null : teacher.logits(e.tokens());
                loss = loss.plus(model.lossAndGradients(e.tokens(), e.targets(), targets == 0 ? 0 : 1.0 / targets, dropout.split(), soft));
                tokensSeen += e.tokens().length;
            }
            double gradNorm = GradientClipping.clip(params, options.maxGradNorm());
            double lr = options.learningRate() * options.schedule().factor(step, warmup, total);
            optimizer.step(lr);
            long done = step + 1;
            lastLoss = loss.mean();
            double elapsed = (System.nanoTime() - begin) / 1e9;
            double tokensPerSecond = tokensSeen / Math.max(elapsed, 1e-9);
            double epoch = (double) done * options.sequencesPerStep() / train.size();
            log.trainStep(done, epoch, lastLoss, lr, gradNorm, tokensSeen, tokensPerSecond, elapsed);
            if (done % Math.max(1, options.loggingSteps()) == 0 || done == total || done == start + 1) {
                double eta = elapsed / (done - start) * (total - done);
                out.printf(java.util.Locale.ROOT, "step %d/%d  epoch %.2f  loss %.4f  lr %.3e  grad_norm %.3f  %,.0f tok/s  elapsed %s  ETA %s%n",
                        done, total, epoch, lastLoss, lr, gradNorm, tokensPerSecond, duration(elapsed), duration(eta));
                out.flush();
            }
            boolean last = done == total;
            if (!validation.isEmpty() && (last || (options.evalSteps() > 0 && done % options.evalSteps() == 0))) {
                valLoss = evaluate(log, done);
            }
            if (!last && options.saveSteps() > 0 && done % options.saveSteps() == 0) {
                checkpoint(optimizer, done);
            }
        }
        log.plot();
        double secs = (System.nanoTime() - begin) / 1e9;
        return new Result(total, lastLoss, valLoss, tokensSeen / Math.max(secs, 1e-9));
    }

    private void checkpoint(AdamW optimizer, long step) {
        Path dir = TrainingCheckpoint.directory(outputDir, step);
        saver.save(dir);
        TrainingCheckpoint.save(dir, step, optimizer);
        if (options.saveTotalLimit() > 0) {
            TrainingCheckpoint.prune(outputDir, options.saveTotalLimit());
        }
        out.printf("saved checkpoint %s%n", dir);
    }

    private double evaluate(TrainingLog log, long step) {
        TrainableLlama.LossSum sum = new TrainableLlama.LossSum(0, 0);
        for (TrainingExample e : validation) {
            sum = sum.plus(model.loss(e.tokens(), e.targets()));
        }
        double loss = sum.mean();
        double epoch = (double) step * options.sequencesPerStep() / train.size();
        log.evaluation(step, epoch, loss);
        out.printf(java.util.Locale.ROOT, "eval step %d: val_loss %.4f (perplexity %.3f over %d tokens)%n", step, loss, Math.exp(loss), sum.count());
        out.flush();
        return loss;
    }

    /**
     * The sequences of optimizer step {@code step}: positions [step·k, (step+1)·k) of the stream made of one seeded
     * permutation of the training set per epoch.
     */
    List<TrainingExample> batch(long step) {
        int k = options.sequencesPerStep();
        int n = train.size();
        TrainingExample[] out = new TrainingExample[k];
        long first = step * k;
        int[] order = null;
        long orderEpoch = -1;
        for (int i = 0; i < k; i++) {
            long position = first + i;
            long epoch = position / n;
            if (epoch != orderEpoch) {
                order = permutation(n, options.seed() + epoch);
                orderEpoch = epoch;
            }
            out[i] = train.get(order[(int) (position % n)]);
        }
        return List.of(out);
    }

    static int[] permutation(int n, long seed) {
        int[] p = new int[n];
        for (int i = 0; i < n; i++) {
            p[i] = i;
        }
        Random r = new Random(seed);
        for (int i = n - 1; i > 0; i--) {
            int j = r.nextInt(i + 1);
            int t = p[i];
            p[i] = p[j];
            p[j] = t;
        }
        return p;
    }

    static String duration(double seconds) {
        long s = Math.round(seconds);
        return s >= 3600 ? String.format("%dh%02dm%02ds", s / 3600, s / 60 % 60, s % 60) : String.format("%dm%02ds", s / 60, s % 60);
    }
}
