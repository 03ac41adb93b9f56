package io.quant4j.eval;

import java.util.Arrays;

/**
 * Order statistics of per-position values (KL-divergence, Δp), interpolated between neighbours as
 * llama-perplexity does: the value at fraction f sits at index f * (n - 1) of the sorted values.
 */
public record Quantiles(double min, double p001, double p01, double p05, double p10, double p25, double median,
                        double p75, double p90, double p95, double p99, double p999, double max) {

    static Quantiles of(float[] values, int n) {
        if (n == 0) {
            return new Quantiles(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0);
        }
        float[] v = Arrays.copyOf(values, n);
        Arrays.sort(v);
        return new Quantiles(v[0], at(v, 0.001f), at(v, 0.01f), at(v, 0.05f), at(v, 0.10f), at(v, 0.25f), at(v, 0.5f),
                at(v, 0.75f), at(v, 0.90f), at(v, 0.95f), at(v, 0.99f), at(v, 0.999f), v[n - 1]);
    }

    private static double at(float[] sorted, float fraction) {
        float p = fraction * (sorted.length - 1);
        int i = (int) p;
        p -= i;
        return (1 - p) * sorted[i] + p * sorted[Math.min(i + 1, sorted.length - 1)];
    }
}
