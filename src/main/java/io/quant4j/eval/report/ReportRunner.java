package io.quant4j.eval.report;

import io.quant4j.runtime.LoadedModel;
import io.quant4j.tensor.Parallel;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;

/**
 * Runs a quantization report: checks the inputs, measures the base model (writing the KL-divergence base file),
 * then for each method produces the model (timed, in this process) and measures it in a child JVM against that
 * base file. A method that cannot be applied, or whose model fails to evaluate, becomes a row saying so; only a
 * failure of the base model ends the report.
 */
public final class ReportRunner {
    private final ReportSettings settings;
    private final List<QuantizationMethod> methods;
    private final PrintWriter log;

    public ReportRunner(ReportSettings settings, List<QuantizationMethod> methods, PrintWriter log) {
        this.settings = settings;
        this.methods = methods;
        this.log = log;
    }

    public QuantizationReport run(String commandLine) {
        checkInputs();
        if (settings.threads() != null) {
            Parallel.setThreads(settings.threads());
        }
        Path work = createDirectory(null);
        try {
            Path modelsDir = settings.keepModels() ? createDirectory(settings.outDir().resolve("models")) : work;
            Path baseFile = work.resolve("base.kld");
            log.printf("report: %s, %d method(s), text %s, -c %d; work directory %s%n", settings.model(), methods.size(),
                    settings.text(), settings.ctx(), work);

            long idleRss = measureIdleJvm(work);
            List<ReportRow> rows = new ArrayList<>();
            log.printf("report: base model %s%n", settings.model());
            ChildResult base = runChild(work, "base", List.of("--text", settings.text().toString(), "--save-base", baseFile.toString()),
                    settings.model());
            if (base.measurement == null) {
                throw new IllegalStateException("the base model's evaluation failed: " + base.error);
            }
            rows.add(ReportRow.measured(base.measurement.footprint().mainType(), true, Double.NaN, base.measurement));

            for (QuantizationMethod m : methods) {
                rows.add(measureMethod(m, modelsDir, work, baseFile));
            }
            return new QuantizationReport(settings, commandLine, machine(), idleRss, rows);
        } finally {
            deleteTree(work);
        }
    }

    private ReportRow measureMethod(QuantizationMethod m, Path modelsDir, Path work, Path baseFile) {
        log.printf("report: %s: quantizing%n", m.name());
        long t0 = System.nanoTime();
        Path produced;
        try {
            produced = m.produce(settings.model(), modelsDir);
        } catch (MethodNotApplicableException e) {
            log.printf("report: %s: not possible: %s%n", m.name(), e.getMessage());
            return ReportRow.notPossible(m.name(), e.getMessage());
        } catch (RuntimeException e) {
            log.printf("report: %s: quantization failed: %s%n", m.name(), e.getMessage());
            return ReportRow.failed(m.name(), "quantization: " + e.getMessage(), Double.NaN);
        }
        double quantSeconds = (System.nanoTime() - t0) / 1e9;
        log.printf("report: %s: quantized in %.2f s; evaluating%n", m.name(), quantSeconds);
        try {
            ChildResult r = runChild(work, m.name(), List.of("--compare-base", baseFile.toString()), produced);
            if (r.measurement == null) {
                return ReportRow.failed(m.name(), "evaluation: " + r.error, quantSeconds);
            }
            return ReportRow.measured(m.name(), false, quantSeconds, r.measurement);
        } finally {
            if (!settings.keepModels()) {
                deleteTree(produced);
            }
        }
    }

    private record ChildResult(ModelMeasurement measurement, String error) {
    }

    private ChildResult runChild(Path work, String label, List<String> modeArgs, Path model) {
        Path result = work.resolve(label.replaceAll("[^A-Za-z0-9_.-]", "_") + ".json");
        List<String> args = new ArrayList<>(List.of("eval-worker", "-m", model.toString(), "-c", Integer.toString(settings.ctx()),
                "--chunks=" + settings.chunks(), "--decode-tokens", Integer.toString(settings.decodeTokens()),
                "--result", result.toString()));
        if (settings.threads() != null) {
            args.addAll(List.of("-t", settings.threads().toString()));
        }
        args.addAll(modeArgs);
        ChildJvm.Outcome o = ChildJvm.run(args, this::forward);
        if (o.exitCode() != 0 || !Files.isRegularFile(result)) {
            return new ChildResult(null, o.lastError() != null ? o.lastError() : "the child JVM exited with code " + o.exitCode());
        }
        return new ChildResult(ReportJson.readMeasurement(result), null);
    }

    private void forward(String childLine) {
        // the JVM's notice about the incubating Vector API says nothing about the model
        if (!childLine.startsWith("WARNING: Using incubator modules")) {
            log.println("  | " + childLine);
            log.flush();
        }
    }

    private long measureIdleJvm(Path work) {
        Path result = work.resolve("idle.json");
        ChildJvm.Outcome o = ChildJvm.run(List.of("eval-worker", "--idle", "--result", result.toString()), this::forward);
        return o.exitCode() == 0 ? ReportJson.readMeasurement(result).peakRssBytes() : -1;
    }

    /** Everything that can be wrong with the request is found here, before any model is quantized. */
    private void checkInputs() {
        Path text = settings.text();
        if (!Files.isRegularFile(text)) {
            throw new IllegalArgumentException(text + ": no such file");
        }
        String content;
        try {
            content = Files.readString(text, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(text + ": cannot read: " + e.getMessage(), e);
        }
        if (content.isBlank()) {
            throw new IllegalArgumentException(text + ": the text is empty");
        }
        if (settings.decodeTokens() < 0) {
            throw new IllegalArgumentException("--decode-tokens must be 0 or more, got " + settings.decodeTokens());
        }
        if (settings.chunks() == 0 || settings.chunks() < -1) {
            throw new IllegalArgumentException("--chunks must be at least 1, got " + settings.chunks());
        }
        try (LoadedModel m = LoadedModel.load(settings.model(), null)) {
            int modelCtx = m.weights().config().contextLength();
            if (settings.ctx() < 4 || settings.ctx() > modelCtx) {
                throw new IllegalArgumentException("-c " + settings.ctx() + " must be between 4 and the model's context length " + modelCtx);
            }
            int tokens = m.tokenizer().encode(content, true, false).length;
            if (tokens < 2 * settings.ctx()) {
                throw new IllegalArgumentException(text + ": the text has " + tokens + " tokens; perplexity with a context of "
                        + settings.ctx() + " needs at least " + 2 * settings.ctx());
            }
        }
        createDirectory(settings.outDir());
        if (!Files.isWritable(settings.outDir())) {
            throw new IllegalArgumentException(settings.outDir() + ": not writable");
        }
    }

    /** {@code dir}, created if missing; a new temporary directory when null. */
    private static Path createDirectory(Path dir) {
        try {
            return dir == null ? Files.createTempDirectory("quant4j-report-") : Files.createDirectories(dir);
        } catch (IOException e) {
            throw new UncheckedIOException((dir == null ? "temporary directory" : dir.toString()) + ": cannot create: " + e.getMessage(), e);
        }
    }

    private static String machine() {
        return Runtime.getRuntime().availableProcessors() + " cores, Java " + Runtime.version() + ", "
                + System.getProperty("os.name") + " " + System.getProperty("os.arch");
    }

    private static void deleteTree(Path p) {
        if (!Files.exists(p)) {
            return;
        }
        try (Stream<Path> all = Files.walk(p)) {
            for (Path q : all.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(q);
            }
        } catch (IOException ignored) {
            // a leftover temporary file is harmless
        }
    }
}
