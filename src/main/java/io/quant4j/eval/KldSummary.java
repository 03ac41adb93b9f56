package io.quant4j.eval;

/**
 * What a KL-divergence run reports, in llama-perplexity's terms. PPL figures are exp(mean NLL) with the
 * uncertainty carried through exp; the ratio and difference use the covariance of the paired NLLs, so they are
 * much tighter than the two PPL uncertainties suggest. Δp is p(correct token | model) − p(correct token | base),
 * as a fraction; {@code sameTop} the fraction of positions whose most likely token is the base model's.
 *
 * @param baseFloored    positions whose correct token sits at the floor of the stored 16-nat window: the base file
 *                       stores a log-prob of about −16 − log Σ there, so {@code basePpl} comes out lower than the base
 *                       model's real perplexity when this is not zero (a property of llama.cpp's format)
 * @param quantilesKnown false for the running per-chunk summaries, where {@code kld}/{@code deltaP} quantiles are not computed
 */
public record KldSummary(long count, Estimate ppl, Estimate basePpl, double lnPplCorrelation, Estimate lnPplRatio,
                         Estimate pplRatio, Estimate pplDifference, Estimate kld, Quantiles kldQuantiles,
                         Estimate deltaP, Quantiles deltaPQuantiles, Estimate rmsDeltaP, Estimate sameTop,
                         long baseFloored, boolean quantilesKnown) {
}
