package io.quant4j.cli;

import io.quant4j.eval.report.EvalRequest;
import io.quant4j.eval.report.ModelEvaluator;
import io.quant4j.eval.report.ModelMeasurement;
import io.quant4j.eval.report.ReportJson;
import io.quant4j.runtime.MemoryUsage;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

import java.nio.file.Path;
import java.util.concurrent.Callable;

/** Hidden {@code eval-worker}: the child process {@code report} starts to measure one model; writes its figures as JSON. */
@Command(name = "eval-worker", hidden = true, description = "(internal to report) measure one model in this process")
public final class EvalWorkerCommand implements Callable<Integer> {
    @Option(names = {"-m", "--model"})
    Path model;

    /** Measure only the peak memory of a JVM that loads nothing (the floor under the report's peak-RAM figures). */
    @Option(names = "--idle")
    boolean idle;

    @Option(names = "--text")
    Path text;

    @Option(names = {"-c", "--ctx-size"})
    int ctx = 512;

    @Option(names = "--chunks")
    int chunks = -1;

    @Option(names = "--save-base")
    Path saveBase;

    @Option(names = "--compare-base")
    Path compareBase;

    @Option(names = "--decode-tokens")
    int decodeTokens;

    @Option(names = {"-t", "--threads"})
    Integer threads;

    @Option(names = "--result", required = true)
    Path result;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        if (idle) {
            ReportJson.writeMeasurement(result, new ModelMeasurement(null, Double.NaN, Double.NaN, 0, 0, null,
                    MemoryUsage.peakResidentBytes(), null, 0));
            return 0;
        }
        if (model == null) {
            throw new UserException("eval-worker needs -m MODEL");
        }
        if (saveBase != null && (compareBase != null || text == null)) {
            throw new UserException("--save-base needs --text and excludes --compare-base");
        }
        EvalRequest r = new EvalRequest(model, text, ctx, chunks, saveBase, compareBase, decodeTokens, threads);
        ModelMeasurement m = ModelEvaluator.measure(r, spec.commandLine().getErr());
        ReportJson.writeMeasurement(result, m);
        return 0;
    }
}
