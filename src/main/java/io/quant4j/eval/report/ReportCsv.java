package io.quant4j.eval.report;

import io.quant4j.eval.KldSummary;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/** {@code report.csv}: one row per type, raw numbers (bytes, seconds, fractions), empty where nothing was measured. */
public final class ReportCsv {
    static final List<String> COLUMNS = List.of("type", "base", "status", "note", "file_bytes", "tensor_bytes", "parameters", "bpw",
            "ppl", "ppl_error", "delta_ppl", "delta_ppl_error", "ppl_ratio", "kld", "kld_error", "kld_median", "kld_p99", "kld_max",
            "delta_p_mean", "delta_p_rms", "same_top", "peak_rss_bytes", "quant_seconds", "decode_tokens_per_second");

    private ReportCsv() {
    }

    public static String render(QuantizationReport report) {
        StringBuilder b = new StringBuilder(String.join(",", COLUMNS)).append('\n');
        for (ReportRow r : report.rows()) {
            List<String> cells = new ArrayList<>(List.of(quote(r.type()), Boolean.toString(r.base()), r.status().label(),
                    quote(r.note() == null ? "" : r.note())));
            ModelMeasurement m = r.measurement();
            KldSummary k = m == null ? null : m.kld();
            if (m != null) {
                cells.addAll(List.of(Long.toString(m.footprint().fileBytes()), Long.toString(m.footprint().tensorBytes()),
                        Long.toString(m.footprint().parameters()), num(m.footprint().bitsPerWeight()), num(m.ppl()), num(m.pplError())));
            } else {
                cells.addAll(List.of("", "", "", "", "", ""));
            }
            if (k != null) {
                cells.addAll(List.of(num(report.deltaPpl(r)), num(k.pplDifference().uncertainty()), num(report.pplRatio(r)),
                        num(k.kld().value()), num(k.kld().uncertainty()), num(k.kldQuantiles().median()), num(k.kldQuantiles().p99()),
                        num(k.kldQuantiles().max()), num(k.deltaP().value()), num(k.rmsDeltaP().value()), num(k.sameTop().value())));
            } else {
                for (int i = 0; i < 11; i++) {
                    cells.add("");
                }
            }
            cells.add(m == null ? "" : Long.toString(m.peakRssBytes()));
            cells.add(num(r.quantSeconds()));
            cells.add(m == null ? "" : num(m.decodeTokensPerSecond()));
            b.append(String.join(",", cells)).append('\n');
        }
        return b.toString();
    }

    private static String num(double v) {
        return Double.isFinite(v) ? String.format(Locale.ROOT, "%.6g", v) : "";
    }

    /** RFC 4180: quoted when it holds a comma, quote or line break; quotes doubled. */
    static String quote(String s) {
        if (s.contains(",") || s.contains("\"") || s.contains("\n") || s.contains("\r")) {
            return "\"" + s.replace("\"", "\"\"") + "\"";
        }
        return s;
    }
}
