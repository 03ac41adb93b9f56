package io.quant4j.eval.report;

import java.util.Locale;

/** One unit for all sizes of a report, picked from the largest, so columns and the plot's axis compare at a glance. */
enum SizeUnit {
    KIB("KiB", 1L << 10), MIB("MiB", 1L << 20), GIB("GiB", 1L << 30);

    final String symbol;
    final long bytes;

    SizeUnit(String symbol, long bytes) {
        this.symbol = symbol;
        this.bytes = bytes;
    }

    static SizeUnit forLargest(long bytes) {
        return bytes >= GIB.bytes ? GIB : bytes >= MIB.bytes ? MIB : KIB;
    }

    double of(long b) {
        return (double) b / bytes;
    }

    /** Three significant digits at least: 0.265 MiB, 1.13 MiB, 607 MiB. */
    String format(long b) {
        double v = of(b);
        String digits = v < 10 ? "%.3f" : v < 100 ? "%.2f" : "%.1f";
        return String.format(Locale.ROOT, digits + " %s", v, symbol);
    }
}
