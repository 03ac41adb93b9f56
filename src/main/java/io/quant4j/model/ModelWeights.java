package io.quant4j.model;

import java.util.List;
import java.util.Map;

/**
 * What a model file yields before its tokenizer is attached: configuration, weights, and what
 * {@code inspect} shows (format, metadata as display strings, the stored tensors). {@code resources} are closed
 * with the model (mapped files).
 */
public record ModelWeights(
        String format,
        LlamaConfig config,
        LlamaWeights weights,
        Map<String, String> metadata,
        List<TensorEntry> tensors,
        List<AutoCloseable> resources) implements AutoCloseable {

    /** Releases the mapped files and off-heap copies; the weights must not be used afterwards. */
    @Override
    public void close() {
        RuntimeException failure = null;
        for (AutoCloseable r : resources) {
            try {
                r.close();
            } catch (Exception e) {
                if (failure == null) {
                    failure = new IllegalStateException("could not release a model resource", e);
                } else {
                    failure.addSuppressed(e);
                }
            }
        }
        if (failure != null) {
            throw failure;
        }
    }
}
