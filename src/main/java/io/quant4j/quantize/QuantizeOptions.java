package io.quant4j.quantize;

import io.quant4j.tensor.GgmlType;

/**
 * What {@code quantize} was asked for, as llama-quantize's flags: the file type, {@code --pure},
 * {@code --output-tensor-type}, {@code --token-embedding-type}, {@code --leave-output-tensor},
 * {@code --allow-requantize}, whether an importance matrix is given, and quant4j's partial quantization
 * ({@code --layers}; null = all layers).
 */
public record QuantizeOptions(
        FileType fileType,
        boolean pure,
        GgmlType outputTensorType,
        GgmlType tokenEmbeddingType,
        boolean leaveOutputTensor,
        boolean allowRequantize,
        boolean hasImatrix,
        LayerSelection layers) {

    public static QuantizeOptions of(FileType fileType) {
        return new QuantizeOptions(fileType, false, null, null, false, false, false, null);
    }

    public QuantizeOptions withPure(boolean p) {
        return new QuantizeOptions(fileType, p, outputTensorType, tokenEmbeddingType, leaveOutputTensor, allowRequantize, hasImatrix, layers);
    }

    public QuantizeOptions withLayers(LayerSelection l) {
        return new QuantizeOptions(fileType, pure, outputTensorType, tokenEmbeddingType, leaveOutputTensor, allowRequantize, hasImatrix, l);
    }
}
