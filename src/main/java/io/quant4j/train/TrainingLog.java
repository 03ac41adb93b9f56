package io.quant4j.train;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The loss curves in {@code OUTPUT_DIR}: {@code train_log.csv} (one row per optimizer step), {@code eval_log.csv}
 * (one row per evaluation of the held-out set) and {@code loss_curve.svg} drawn from both. On resume the rows
 * after the checkpoint's step are dropped, so the files always describe one run.
 */
public final class TrainingLog {
    static final String TRAIN_FILE = "train_log.csv";
    static final String EVAL_FILE = "eval_log.csv";
    static final String PLOT_FILE = "loss_curve.svg";
    private static final String TRAIN_HEADER = "step,epoch,loss,learning_rate,grad_norm,tokens,tokens_per_second,elapsed_seconds";
    private static final String EVAL_HEADER = "step,epoch,val_loss,val_perplexity";

    /** One point of a curve. */
    public record Point(double step, double loss) {
    }

    private final Path dir;
    private final List<Point> train = new ArrayList<>();
    private final List<Point> eval = new ArrayList<>();

    private TrainingLog(Path dir) {
        this.dir = dir;
    }

    /** Starts fresh files, or (resuming) keeps the rows up to {@code keepUpToStep}. */
    public static TrainingLog open(Path dir, long keepUpToStep) {
        TrainingLog log = new TrainingLog(dir);
        log.reopen(TRAIN_FILE, TRAIN_HEADER, keepUpToStep, log.train, 2);
        log.reopen(EVAL_FILE, EVAL_HEADER, keepUpToStep, log.eval, 2);
        return log;
    }

    private void reopen(String name, String header, long keepUpToStep, List<Point> points, int lossColumn) {
        Path file = dir.resolve(name);
        List<String> kept = new ArrayList<>();
        kept.add(header);
        try {
            if (keepUpToStep >= 0 && Files.isRegularFile(file)) {
                for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
                    String[] f = line.split(",");
                    if (line.startsWith("step") || f.length <= lossColumn) {
                        continue;
                    }
                    if (Long.parseLong(f[0]) <= keepUpToStep) {
                        kept.add(line);
                        points.add(new Point(Long.parseLong(f[0]), Double.parseDouble(f[lossColumn])));
                    }
                }
            }
            Files.write(file, kept, StandardCharsets.UTF_8);
        } catch (IOException | NumberFormatException e) {
            throw new UncheckedIOException(new IOException(file + ": cannot rewrite the training log: " + e.getMessage()));
        }
    }

    public void trainStep(long step, double epoch, double loss, double lr, double gradNorm, long tokens, double tokensPerSecond,
                          double elapsed) {
        append(TRAIN_FILE, String.format(Locale.ROOT, "%d,%.4f,%.6f,%.6e,%.6f,%d,%.1f,%.2f", step, epoch, loss, lr, gradNorm,
                tokens, tokensPerSecond, elapsed));
        train.add(new Point(step, loss));
    }

    public void evaluation(long step, double epoch, double loss) {
        append(EVAL_FILE, String.format(Locale.ROOT, "%d,%.4f,%.6f,%.4f", step, epoch, loss, Math.exp(loss)));
        eval.add(new Point(step, loss));
        plot();
    }

    /** Redraws loss_curve.svg. */
    public void plot() {
        try {
            Files.writeString(dir.resolve(PLOT_FILE), LossCurveSvg.render(train, eval), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private void append(String name, String line) {
        try {
            Files.writeString(dir.resolve(name), line + "\n", StandardCharsets.UTF_8, StandardOpenOption.APPEND);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
