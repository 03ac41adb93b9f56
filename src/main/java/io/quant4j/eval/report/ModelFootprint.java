package io.quant4j.eval.report;

import io.quant4j.model.ModelWeights;
import io.quant4j.model.TensorEntry;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.stream.Stream;

/**
 * How big a model is: bytes on disk (a file, or every file of a folder), bytes of tensor data, parameters, and
 * the tensor type holding most of the bytes (what the base row is labelled with).
 */
public record ModelFootprint(long fileBytes, long tensorBytes, long parameters, String mainType) {

    /** Bits per weight as model cards give it: tensor bytes × 8 / parameters (metadata and padding excluded). */
    public double bitsPerWeight() {
        return parameters == 0 ? 0 : 8.0 * tensorBytes / parameters;
    }

    public static ModelFootprint of(Path model, ModelWeights weights) {
        long tensorBytes = 0;
        long parameters = 0;
        Map<String, Long> bytesByType = new HashMap<>();
        for (TensorEntry t : weights.tensors()) {
            long n = 1;
            for (long d : t.shape()) {
                n *= d;
            }
            parameters += n;
            tensorBytes += t.bytes();
            bytesByType.merge(t.type(), t.bytes(), Long::sum);
        }
        String main = bytesByType.entrySet().stream().max(Map.Entry.comparingByValue()).map(Map.Entry::getKey).orElse("?");
        return new ModelFootprint(diskBytes(model), tensorBytes, parameters, main);
    }

    static long diskBytes(Path model) {
        try {
            if (Files.isDirectory(model)) {
                try (Stream<Path> files = Files.walk(model)) {
                    return files.filter(Files::isRegularFile).mapToLong(p -> {
                        try {
                            return Files.size(p);
                        } catch (IOException e) {
                            throw new UncheckedIOException(e);
                        }
                    }).sum();
                }
            }
            return Files.size(model);
        } catch (IOException | UncheckedIOException e) {
            throw new UncheckedIOException(model + ": cannot measure: " + e.getMessage(), e instanceof IOException io ? io : new IOException(e));
        }
    }
}
