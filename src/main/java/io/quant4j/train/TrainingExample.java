package io.quant4j.train;

/**
 * One training sequence: token ids (BOS first) and, per token, whether it is a prediction target — position t's
 * logits are scored against token t+1 when {@code targets[t+1]} (prompt tokens are not targets unless
 * train_on_inputs).
 */
public record TrainingExample(int[] tokens, boolean[] targets) {
    public TrainingExample {
        if (tokens.length != targets.length) {
            throw new IllegalArgumentException("tokens and targets differ in length");
        }
    }

    /** The number of scored predictions. */
    public int targetCount() {
        int n = 0;
        for (int t = 1; t < targets.length; t++) {
            if (targets[t]) {
                n++;
            }
        }
        return n;
    }
}
