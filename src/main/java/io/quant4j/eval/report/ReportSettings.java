package io.quant4j.eval.report;

import java.nio.file.Path;

/**
 * What {@code quant4j report} was asked for.
 *
 * @param chunks       at most this many perplexity chunks (-1: all)
 * @param threads      threads for quantization and evaluation (null: all cores)
 * @param keepModels   keep the quantized models in {@code outDir}/models instead of a temporary directory
 */
public record ReportSettings(Path model, Path text, int ctx, int chunks, int decodeTokens, Integer threads, Path outDir,
                             boolean keepModels) {
}
