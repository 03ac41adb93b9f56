package io.quant4j.eval.report;

import java.util.List;

/**
 * A finished report: the settings, where it ran, and one row for the base model followed by one per method.
 *
 * @param idleJvmRssBytes peak resident memory of a child JVM that loads nothing: the floor under every peak-RAM figure
 */
public record QuantizationReport(ReportSettings settings, String commandLine, String machine, long idleJvmRssBytes,
                                 List<ReportRow> rows) {

    public ReportRow base() {
        return rows.getFirst();
    }

    public double basePpl() {
        return base().measurement().ppl();
    }

    /** PPL(type) − PPL(base), both from their own runs over the same tokens. */
    public double deltaPpl(ReportRow r) {
        return r.measurement().ppl() - basePpl();
    }

    public double pplRatio(ReportRow r) {
        return r.measurement().ppl() / basePpl();
    }
}
