package io.quant4j.eval.report;

import io.quant4j.eval.KldSummary;

import java.util.List;
import java.util.Locale;
import java.util.stream.Collectors;

/** {@code report.md}: the model-card table (type | size | bpw | PPL | ΔPPL | KLD | peak RAM | quant time | decode t/s), details, and how it was measured. */
public final class ReportMarkdown {
    private static final String NONE = "—";

    private ReportMarkdown() {
    }

    public static String render(QuantizationReport report) {
        ReportSettings s = report.settings();
        ModelMeasurement base = report.base().measurement();
        SizeUnit unit = sizeUnit(report);
        StringBuilder b = new StringBuilder();
        b.append("# Quantization report: ").append(fileName(s.model().toString())).append("\n\n");
        b.append("| type | size | bpw | PPL | ΔPPL | KLD | peak RAM | quant time | decode t/s |\n");
        b.append("|---|---:|---:|---:|---:|---:|---:|---:|---:|\n");
        for (ReportRow r : report.rows()) {
            String type = r.base() ? r.type() + " (base)" : r.type();
            if (!r.ok()) {
                b.append(row(type, escape(r.statusText()), NONE, NONE, NONE, NONE, NONE, NONE, NONE));
                continue;
            }
            ModelMeasurement m = r.measurement();
            KldSummary k = m.kld();
            b.append(row(type, unit.format(m.footprint().fileBytes()), f("%.2f", m.footprint().bitsPerWeight()),
                    f("%.4f ± %.4f", m.ppl(), m.pplError()),
                    k == null ? NONE : f("%+.4f ± %.4f", report.deltaPpl(r), k.pplDifference().uncertainty()),
                    k == null ? NONE : f("%.5f ± %.5f", k.kld().value(), k.kld().uncertainty()),
                    mib(m.peakRssBytes()),
                    Double.isNaN(r.quantSeconds()) ? NONE : f("%.2f s", r.quantSeconds()),
                    m.decode() == null ? NONE : f("%.0f ± %.0f", m.decode().tokensPerSecond(), m.decode().stdev())));
        }
        List<ReportRow> front = ParetoFront.of(report.rows());
        b.append("\nPareto front (no other row is both smaller and lower in perplexity): ")
                .append(front.stream().map(ReportRow::type).collect(Collectors.joining(", "))).append(".\n\n");
        b.append("![perplexity vs size](report.svg)\n\n");

        b.append("## KL-divergence and token statistics\n\n");
        b.append("| type | PPL(Q)/PPL(base) | KLD median | KLD 99% | KLD 99.9% | KLD max | mean Δp | RMS Δp | same top |\n");
        b.append("|---|---:|---:|---:|---:|---:|---:|---:|---:|\n");
        for (ReportRow r : report.rows()) {
            if (!r.ok() || r.measurement().kld() == null) {
                continue;
            }
            KldSummary k = r.measurement().kld();
            b.append(row(r.type(), f("%.4f ± %.4f", report.pplRatio(r), k.pplRatio().uncertainty()),
                    f("%.5f", k.kldQuantiles().median()), f("%.5f", k.kldQuantiles().p99()), f("%.5f", k.kldQuantiles().p999()),
                    f("%.5f", k.kldQuantiles().max()), f("%+.3f %%", 100 * k.deltaP().value()),
                    f("%.3f %%", 100 * k.rmsDeltaP().value()), f("%.2f %%", 100 * k.sameTop().value())));
        }

        b.append("\n## How this was measured\n\n");
        b.append("- Command: `").append(report.commandLine()).append("`\n");
        b.append(f("- Perplexity: llama.cpp's protocol (as `llama-perplexity -c %d`): `%s` tokenized with BOS, %d chunks of %d "
                        + "tokens, the first token of each chunk replaced by BOS, the second half of each chunk scored: %d tokens. "
                        + "± is llama.cpp's standard error.%n",
                s.ctx(), fileName(s.text().toString()), base.chunks(), s.ctx(), base.scoredTokens()));
        b.append("- ΔPPL: PPL(type) − PPL(base), each from its own run over the same tokens; ± from the paired "
                + "per-token NLLs as llama.cpp's `--kl-divergence` computes it (much tighter than either PPL's ±).\n");
        b.append("- KLD: mean KL(base ‖ type) per scored position ± standard error, computed as `llama-perplexity "
                + "--kl-divergence` does against the base model's saved log-probs (llama.cpp's uint16 format, docs/kld-format.md).\n");
        b.append("- size: the model file on disk; bpw: tensor bytes × 8 / parameters (metadata excluded).\n");
        b.append(f("- peak RAM: VmHWM of the child JVM that evaluated the model (mapped weights, KV cache, Java heap, JIT); "
                + "a child JVM that loads nothing peaks at %s, the floor under every figure. Heap settings are the parent's.%n",
                mib(report.idleJvmRssBytes())));
        b.append("- quant time: wall time of the quantizer in the report's own JVM (first types include JIT warm-up).\n");
        b.append(f("- decode t/s: greedy generation of %d tokens after BOS, forward calls per second (llama.cpp's \"eval\" rate); "
                + "mean ± standard deviation of 5 timed runs after the perplexity pass and one warm-up run, as llama-bench's tg.%n",
                s.decodeTokens()));
        b.append("- Machine: ").append(report.machine()).append(
                s.threads() != null ? ", " + s.threads() + " threads" : ", all cores").append(".\n");
        return b.toString();
    }

    static SizeUnit sizeUnit(QuantizationReport report) {
        long max = report.rows().stream().filter(ReportRow::ok).mapToLong(r -> r.measurement().footprint().fileBytes()).max().orElse(0);
        return SizeUnit.forLargest(max);
    }

    private static String row(String... cells) {
        return "| " + String.join(" | ", cells) + " |\n";
    }

    private static String mib(long bytes) {
        return bytes < 0 ? "n/a" : f("%.1f MiB", bytes / 1048576.0);
    }

    private static String escape(String s) {
        return s.replace("|", "\\|").replace("\n", " ");
    }

    static String fileName(String path) {
        int slash = path.lastIndexOf('/');
        return slash >= 0 ? path.substring(slash + 1) : path;
    }

    private static String f(String format, Object... args) {
        return String.format(Locale.ROOT, format, args);
    }
}
