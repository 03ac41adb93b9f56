package io.quant4j.model;

/** Sees the input vector of every weight multiplication (imatrix collection), named by GGUF tensor name. */
@FunctionalInterface
public interface ActivationObserver {
    void observe(String tensorName, float[] input, int length);
}
