package io.quant4j.eval.report;

/**
 * Greedy decode speed as llama-bench's tg test reports it: the mean and standard deviation of tokens per second
 * over {@code runs} timed runs of {@code tokens} tokens each, after one untimed warm-up run.
 */
public record DecodeSpeed(int tokens, int runs, double tokensPerSecond, double stdev) {

    static DecodeSpeed of(int tokens, double[] rates) {
        double sum = 0;
        for (double r : rates) {
            sum += r;
        }
        double mean = sum / rates.length;
        double var = 0;
        for (double r : rates) {
            var += (r - mean) * (r - mean);
        }
        return new DecodeSpeed(tokens, rates.length, mean, rates.length > 1 ? Math.sqrt(var / (rates.length - 1)) : 0);
    }
}
