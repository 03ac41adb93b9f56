package io.quant4j.eval.report;

import java.nio.file.Path;

/**
 * One way of making a smaller model that {@code quant4j report} can measure: the GGUF file types today, GPTQ /
 * NF4 and other methods later. A method writes its model into a directory the report owns and returns the path
 * of something {@link io.quant4j.runtime.LoadedModel} can load (a GGUF file, a Hugging Face folder, ...).
 */
public interface QuantizationMethod {
    /** The name given in {@code --types} (matched case-insensitively) and shown in the report. */
    String name();

    /** One line for {@code --help} and the report. */
    String description();

    /**
     * Produces the quantized model from {@code model} inside {@code outDir}.
     *
     * @throws MethodNotApplicableException when this method cannot be applied to this model (the report shows
     *                                      "not possible: reason" and goes on with the other methods)
     */
    Path produce(Path model, Path outDir);
}
