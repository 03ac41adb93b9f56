package io.quant4j.model;

/**
 * How RoPE frequencies are rescaled for long context: none, linear (positions divided by factor), or
 * Llama-3 (low frequencies divided by factor, high ones kept, a smooth ramp between).
 */
public record RopeScaling(Kind kind, float factor, float lowFreqFactor, float highFreqFactor, int originalContextLength) {
    public enum Kind { NONE, LINEAR, LLAMA3 }

    public static final RopeScaling NONE = new RopeScaling(Kind.NONE, 1f, 1f, 1f, 0);

    public static RopeScaling linear(float factor) {
        return new RopeScaling(Kind.LINEAR, factor, 1f, 1f, 0);
    }

    public static RopeScaling llama3(float factor, float lowFreqFactor, float highFreqFactor, int originalContextLength) {
        return new RopeScaling(Kind.LLAMA3, factor, lowFreqFactor, highFreqFactor, originalContextLength);
    }

    /** The scaled inverse frequency of one rotary pair (transformers' _compute_llama3_parameters). */
    public double apply(double invFreq) {
        return switch (kind) {
            case NONE -> invFreq;
            case LINEAR -> invFreq / factor;
            case LLAMA3 -> {
                double wavelen = 2 * Math.PI / invFreq;
                double lowFreqWavelen = originalContextLength / lowFreqFactor;
                double highFreqWavelen = originalContextLength / highFreqFactor;
                if (wavelen < highFreqWavelen) {
                    yield invFreq;
                }
                if (wavelen > lowFreqWavelen) {
                    yield invFreq / factor;
                }
                double smooth = (originalContextLength / wavelen - lowFreqFactor) / (highFreqFactor - lowFreqFactor);
                yield (1 - smooth) * invFreq / factor + smooth * invFreq;
            }
        };
    }
}
