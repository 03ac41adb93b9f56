package io.quant4j.eval.report;

/** A quantization method that cannot be applied to a given model (e.g. rows not a multiple of its block size). */
public class MethodNotApplicableException extends RuntimeException {
    public MethodNotApplicableException(String reason) {
        super(reason);
    }
}
