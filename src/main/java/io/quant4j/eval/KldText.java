package io.quant4j.eval;

import java.util.Locale;

/** llama-perplexity's KL-divergence printout: the per-chunk table and the three statistics blocks. */
public final class KldText {
    private KldText() {
    }

    public static String chunkHeader() {
        return "chunk             PPL               ln(PPL(Q)/PPL(base))          KL Divergence              Δp RMS            Same top p";
    }

    public static String chunkLine(int chunk, KldSummary s) {
        return f("%4d    %9.4f ± %9.4f    %10.5f ± %10.5f    %10.5f ± %10.5f    %6.3f ± %6.3f %%    %6.3f ± %6.3f %%",
                chunk, s.ppl().value(), s.ppl().uncertainty(), s.lnPplRatio().value(), s.lnPplRatio().uncertainty(),
                s.kld().value(), s.kld().uncertainty(), 100 * s.rmsDeltaP().value(), 100 * s.rmsDeltaP().uncertainty(),
                100 * s.sameTop().value(), 100 * s.sameTop().uncertainty());
    }

    /** The closing statistics (llama.cpp prints them only from 100 positions on; so does this). */
    public static String statistics(KldSummary s) {
        if (s.count() < 100 || !s.quantilesKnown()) {
            return f("(only %d positions: too few for the statistics blocks)%n", s.count());
        }
        StringBuilder b = new StringBuilder();
        b.append("====== Perplexity statistics ======\n");
        b.append(f("Mean PPL(Q)                   : %10.6f ± %10.6f%n", s.ppl().value(), s.ppl().uncertainty()));
        b.append(f("Mean PPL(base)                : %10.6f ± %10.6f%n", s.basePpl().value(), s.basePpl().uncertainty()));
        b.append(f("Cor(ln(PPL(Q)), ln(PPL(base))): %6.2f%%%n", 100 * s.lnPplCorrelation()));
        b.append(f("Mean ln(PPL(Q)/PPL(base))     : %10.6f ± %10.6f%n", s.lnPplRatio().value(), s.lnPplRatio().uncertainty()));
        b.append(f("Mean PPL(Q)/PPL(base)         : %10.6f ± %10.6f%n", s.pplRatio().value(), s.pplRatio().uncertainty()));
        b.append(f("Mean PPL(Q)-PPL(base)         : %10.6f ± %10.6f%n", s.pplDifference().value(), s.pplDifference().uncertainty()));
        if (s.baseFloored() > 0) {
            b.append(f("(%d of %d positions (%.2f%%) have the correct token 16 nats or more below the base model's top token,%n"
                    + " where the base file stores only the floor: PPL(base) and the ratios above read low there)%n",
                    s.baseFloored(), s.count(), 100.0 * s.baseFloored() / s.count()));
        }
        b.append('\n');
        Quantiles k = s.kldQuantiles();
        b.append("====== KL divergence statistics ======\n");
        b.append(f("Mean    KLD: %10.6f ± %10.6f%n", s.kld().value(), s.kld().uncertainty()));
        b.append(f("Maximum KLD: %10.6f%n", k.max()));
        b.append(f("99.9%%   KLD: %10.6f%n", k.p999()));
        b.append(f("99.0%%   KLD: %10.6f%n", k.p99()));
        b.append(f("Median  KLD: %10.6f%n", k.median()));
        b.append(f("10.0%%   KLD: %10.6f%n", k.p10()));
        b.append(f(" 5.0%%   KLD: %10.6f%n", k.p05()));
        b.append(f(" 1.0%%   KLD: %10.6f%n", k.p01()));
        b.append(f("Minimum KLD: %10.6f%n", k.min()));
        b.append('\n');
        Quantiles d = s.deltaPQuantiles();
        b.append("====== Token probability statistics ======\n");
        b.append(f("Mean    Δp: %6.3f ± %5.3f %%%n", 100 * s.deltaP().value(), 100 * s.deltaP().uncertainty()));
        b.append(f("Maximum Δp: %6.3f%%%n", 100 * d.max()));
        b.append(f("99.9%%   Δp: %6.3f%%%n", 100 * d.p999()));
        b.append(f("99.0%%   Δp: %6.3f%%%n", 100 * d.p99()));
        b.append(f("95.0%%   Δp: %6.3f%%%n", 100 * d.p95()));
        b.append(f("90.0%%   Δp: %6.3f%%%n", 100 * d.p90()));
        b.append(f("75.0%%   Δp: %6.3f%%%n", 100 * d.p75()));
        b.append(f("Median  Δp: %6.3f%%%n", 100 * d.median()));
        b.append(f("25.0%%   Δp: %6.3f%%%n", 100 * d.p25()));
        b.append(f("10.0%%   Δp: %6.3f%%%n", 100 * d.p10()));
        b.append(f(" 5.0%%   Δp: %6.3f%%%n", 100 * d.p05()));
        b.append(f(" 1.0%%   Δp: %6.3f%%%n", 100 * d.p01()));
        b.append(f(" 0.1%%   Δp: %6.3f%%%n", 100 * d.p001()));
        b.append(f("Minimum Δp: %6.3f%%%n", 100 * d.min()));
        b.append(f("RMS Δp    : %6.3f ± %5.3f %%%n", 100 * s.rmsDeltaP().value(), 100 * s.rmsDeltaP().uncertainty()));
        b.append(f("Same top p: %6.3f ± %5.3f %%%n", 100 * s.sameTop().value(), 100 * s.sameTop().uncertainty()));
        return b.toString();
    }

    private static String f(String format, Object... args) {
        return String.format(Locale.ROOT, format, args);
    }
}
