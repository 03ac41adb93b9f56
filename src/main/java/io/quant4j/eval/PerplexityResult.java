package io.quant4j.eval;

/**
 * Perplexity over {@code count} scored tokens: exp(mean NLL) and llama.cpp's uncertainty estimate
 * (the standard error of the mean NLL, carried through exp).
 */
public record PerplexityResult(double ppl, double pplError, long count, double meanNll) {

    static PerplexityResult of(double nllSum, double nll2Sum, long count) {
        double nll = nllSum / count;
        double nll2 = nll2Sum / count - nll * nll;
        double ppl = Math.exp(nll);
        double err = nll2 > 0 && count > 1 ? Math.sqrt(nll2 / (count - 1)) : 0;
        return new PerplexityResult(ppl, ppl * err, count, nll);
    }
}
