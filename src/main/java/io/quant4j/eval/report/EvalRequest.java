package io.quant4j.eval.report;

import java.nio.file.Path;

/**
 * What a child process is asked to measure. Exactly one of: {@code saveBase} (run the base model on
 * {@code text}, write the KL-divergence base file), {@code compareBase} (run a quantized model against that file;
 * the tokens come from it), or neither (only the footprint and decode speed).
 */
public record EvalRequest(Path model, Path text, int ctx, int chunks, Path saveBase, Path compareBase, int decodeTokens,
                          Integer threads) {
}
