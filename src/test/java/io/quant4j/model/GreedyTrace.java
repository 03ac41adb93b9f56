package io.quant4j.model;

import java.nio.file.Path;
import java.util.Locale;

/**
 * Greedy continuation of a fixed prompt, printed as one line of token ids and then the full logits of the first
 * few positions (one line each). Run in a child JVM by {@link FastPathAgreesWithScalarPathTest} with the Vector API
 * kernels switched off ({@code -Dquant4j.simd=false}).
 */
public final class GreedyTrace {
    static final int[] PROMPT = {1, 403, 407, 261, 378};
    static final int LOGIT_ROWS = 4;

    private GreedyTrace() {
    }

    record Trace(int[] tokens, float[][] logits) {
    }

    /** {@code batchedPrompt}: feed the prompt as one batch (prefill path) or token by token (decode path only). */
    static Trace run(Path model, int n, boolean batchedPrompt, boolean f16Cache) {
        try (ModelWeights w = ModelLoader.loadWeights(model)) {
            LlamaSession s = new Llama(w.config(), w.weights()).newSession(PROMPT.length + n + 1, f16Cache);
            float[][] rows = new float[LOGIT_ROWS][];
            float[] logits = null;
            if (batchedPrompt) {
                logits = s.forward(PROMPT);
            } else {
                for (int t : PROMPT) {
                    logits = s.forward(t);
                }
            }
            int[] out = new int[n];
            for (int i = 0; i < n; i++) {
                if (i < LOGIT_ROWS) {
                    rows[i] = logits.clone();
                }
                int best = 0;
                for (int j = 1; j < logits.length; j++) {
                    if (logits[j] > logits[best]) {
                        best = j;
                    }
                }
                out[i] = best;
                logits = s.forward(best);
            }
            return new Trace(out, rows);
        }
    }

    /** Prints the batched-prompt trace, then the token-by-token one: ids line, then LOGIT_ROWS logit lines, each. */
    public static void main(String[] args) {
        StringBuilder sb = new StringBuilder();
        for (boolean batched : new boolean[] {true, false}) {
            Trace t = run(Path.of(args[0]), Integer.parseInt(args[1]), batched, Boolean.parseBoolean(args[2]));
            for (int id : t.tokens()) {
                sb.append(id).append(' ');
            }
            sb.setLength(sb.length() - 1);
            sb.append('\n');
            for (float[] row : t.logits()) {
                for (float v : row) {
                    sb.append(String.format(Locale.ROOT, "%.9g ", v));
                }
                sb.setLength(sb.length() - 1);
                sb.append('\n');
            }
        }
        System.out.print(sb);
    }
}
