package io.quant4j.eval.report;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/** The measured rows no other row beats on both file size and perplexity (the ones worth choosing from). */
public final class ParetoFront {
    private ParetoFront() {
    }

    /** Rows on the front, smallest file first. */
    public static List<ReportRow> of(List<ReportRow> rows) {
        List<ReportRow> measured = rows.stream().filter(ReportRow::ok).toList();
        List<ReportRow> front = new ArrayList<>();
        for (ReportRow r : measured) {
            boolean dominated = false;
            for (ReportRow o : measured) {
                if (o != r && size(o) <= size(r) && ppl(o) <= ppl(r) && (size(o) < size(r) || ppl(o) < ppl(r))) {
                    dominated = true;
                    break;
                }
            }
            if (!dominated) {
                front.add(r);
            }
        }
        front.sort(Comparator.comparingLong(ParetoFront::size));
        return front;
    }

    private static long size(ReportRow r) {
        return r.measurement().footprint().fileBytes();
    }

    private static double ppl(ReportRow r) {
        return r.measurement().ppl();
    }
}
