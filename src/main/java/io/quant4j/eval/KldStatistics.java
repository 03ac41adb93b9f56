package io.quant4j.eval;

import java.util.Arrays;

/**
 * Accumulates llama-perplexity's KL-divergence statistics position by position: sums for the means and their
 * uncertainties, and the per-position KLD and Δp values (one float each; the logits themselves are never kept)
 * for the percentiles. Arithmetic follows llama.cpp's (float per position, double sums).
 */
public final class KldStatistics {
    private double sumNll;
    private double sumNll2;
    private double sumNllBase;
    private double sumNllBase2;
    private double sumNllNllBase;
    private double sumKld;
    private double sumKld2;
    private double sumDeltaP;
    private double sumDeltaP2;
    private double sumDeltaP4;
    private long sameTop;
    private long floored;
    private int count;
    private float[] kldValues = new float[1024];
    private float[] deltaPValues = new float[1024];

    /** Adds one position: the model's {@code logits}, the base model's stored {@code base} row, the correct {@code token}. */
    public void add(float[] logits, LogProbRow base, int token) {
        int n = base.vocab();
        float max = logits[0];
        int top = 0;
        for (int i = 1; i < n; i++) {
            if (logits[i] > max) {
                max = logits[i];
                top = i;
            }
        }
        double sumExp = 0;
        for (int i = 0; i < n; i++) {
            sumExp += (float) Math.exp(logits[i] - max);
        }
        float logSumExp = (float) Math.log(sumExp);
        float nll = max + logSumExp - logits[token];
        float nllBase = -base.logProb(token);
        if (base.level(token) == 0) {
            floored++; // the base file only knows this token was 16 nats or more below the top one
        }
        sumNll += nll;
        sumNll2 += nll * nll;
        sumNllBase += nllBase;
        sumNllBase2 += nllBase * nllBase;
        sumNllNllBase += nll * nllBase;

        // KL(base || model) = sum p_base * (log p_base - log p_model); entries below the 16-nat window carry no mass
        float logNorm = max + logSumExp;
        double kld = 0;
        int baseTop = -1;
        float baseTopLogProb = 0;
        for (int i = 0; i < n; i++) {
            float lpBase = base.logProb(i);
            if (i == 0 || lpBase > baseTopLogProb) {
                baseTopLogProb = lpBase;
                baseTop = i;
            }
            if (lpBase > -LogProbRow.WINDOW) {
                float pBase = (float) Math.exp(lpBase);
                kld += pBase * (lpBase - logits[i] + logNorm);
            }
        }
        sumKld += kld;
        sumKld2 += kld * kld;
        if (top == baseTop) {
            sameTop++;
        }
        float deltaP = (float) Math.exp(-nll) - (float) Math.exp(-nllBase);
        sumDeltaP += deltaP;
        double d2 = (double) deltaP * deltaP;
        sumDeltaP2 += d2;
        sumDeltaP4 += d2 * d2;
        if (count == kldValues.length) {
            kldValues = Arrays.copyOf(kldValues, count * 2);
            deltaPValues = Arrays.copyOf(deltaPValues, count * 2);
        }
        kldValues[count] = (float) kld;
        deltaPValues[count] = deltaP;
        count++;
    }

    public long count() {
        return count;
    }

    /** The figures so far; {@code withQuantiles} sorts the per-position values (skip it for running per-chunk lines). */
    public KldSummary summary(boolean withQuantiles) {
        Estimate lnPpl = Estimate.ofSums(sumNll, sumNll2, count);
        Estimate lnPplBase = Estimate.ofSums(sumNllBase, sumNllBase2, count);
        double covariance = count < 10 ? 0 : (sumNllNllBase / count - (sumNll / count) * (sumNllBase / count)) / (count - 1);
        double pplValue = Math.exp(lnPpl.value());
        double basePplValue = Math.exp(lnPplBase.value());
        Estimate ppl = new Estimate(pplValue, pplValue * lnPpl.uncertainty());
        Estimate basePpl = new Estimate(basePplValue, basePplValue * lnPplBase.uncertainty());
        double correlation = lnPpl.uncertainty() * lnPplBase.uncertainty() == 0 ? Double.NaN
                : covariance / (lnPpl.uncertainty() * lnPplBase.uncertainty());
        double ratioUnc = Math.sqrt(Math.max(0, sq(lnPpl.uncertainty()) + sq(lnPplBase.uncertainty()) - 2 * covariance));
        Estimate lnRatio = new Estimate(lnPpl.value() - lnPplBase.value(), ratioUnc);
        double ratio = Math.exp(lnRatio.value());
        Estimate pplRatio = new Estimate(ratio, ratio * ratioUnc);
        double pplCovariance = pplValue * basePplValue * covariance;
        Estimate pplDiff = new Estimate(pplValue - basePplValue,
                Math.sqrt(Math.max(0, sq(ppl.uncertainty()) + sq(basePpl.uncertainty()) - 2 * pplCovariance)));
        Estimate kld = Estimate.ofSums(sumKld, sumKld2, count);
        Estimate deltaP = Estimate.ofSums(sumDeltaP, sumDeltaP2, count);
        Estimate msDeltaP = Estimate.ofSums(sumDeltaP2, sumDeltaP4, count);
        double rms = Math.sqrt(msDeltaP.value());
        Estimate rmsDeltaP = new Estimate(rms, rms == 0 ? 0 : 0.5 / rms * msDeltaP.uncertainty());
        double same = count == 0 ? 0 : (double) sameTop / count;
        Estimate sameTopEstimate = new Estimate(same, count > 1 ? Math.sqrt(same * (1 - same) / (count - 1)) : 0);
        Quantiles kldQ = withQuantiles ? Quantiles.of(kldValues, count) : null;
        Quantiles deltaPQ = withQuantiles ? Quantiles.of(deltaPValues, count) : null;
        return new KldSummary(count, ppl, basePpl, correlation, lnRatio, pplRatio, pplDiff, kld, kldQ, deltaP, deltaPQ,
                rmsDeltaP, sameTopEstimate, floored, withQuantiles);
    }

    private static double sq(double x) {
        return x * x;
    }
}
