package io.quant4j.quantize.bnb;

/**
 * transformers' BitsAndBytesConfig, the parts quant4j implements: LLM.int8 ({@code load_in_8bit}, outlier threshold)
 * or 4-bit ({@code load_in_4bit}) with quant type nf4 / fp4, double quantization of the block absmax values and the
 * block size (bitsandbytes' default 64; transformers fixes it there).
 */
public record BnbOptions(Mode mode, String quantType, boolean doubleQuant, int blocksize, float threshold) {
    public enum Mode { INT8, FOUR_BIT }

    /** Block size of the second (double) quantization of absmax values, as bitsandbytes. */
    public static final int NESTED_BLOCKSIZE = 256;

    public BnbOptions {
        if (mode == Mode.FOUR_BIT && !quantType.equals("nf4") && !quantType.equals("fp4")) {
            throw new IllegalArgumentException("--bnb-4bit-quant-type must be nf4 or fp4, got '" + quantType + "'");
        }
        if (blocksize < 32 || blocksize > 4096 || Integer.bitCount(blocksize) != 1) {
            throw new IllegalArgumentException("--blocksize must be a power of two from 32 to 4096 (bitsandbytes' range), got " + blocksize);
        }
        if (!(threshold >= 0) || Float.isInfinite(threshold)) {
            throw new IllegalArgumentException("--llm-int8-threshold must be a non-negative number, got " + threshold);
        }
    }

    public static BnbOptions int8(float threshold) {
        return new BnbOptions(Mode.INT8, "int8", false, 64, threshold);
    }

    public static BnbOptions fourBit(String quantType, boolean doubleQuant, int blocksize) {
        return new BnbOptions(Mode.FOUR_BIT, quantType, doubleQuant, blocksize, 6.0f);
    }

    /** The options of the model-running commands that load a model with these settings. */
    public String cliFlags() {
        if (mode == Mode.INT8) {
            return "--load-in-8bit" + (threshold == 6.0f ? "" : " --llm-int8-threshold " + threshold);
        }
        return "--load-in-4bit --bnb-4bit-quant-type " + quantType + (doubleQuant ? " --double-quant" : "")
                + (blocksize == 64 ? "" : " --blocksize " + blocksize);
    }

    public String describe() {
        return mode == Mode.INT8 ? "LLM.int8 (threshold " + threshold + ")"
                : quantType.toUpperCase() + " blocksize " + blocksize + (doubleQuant ? " + double quant" : "");
    }
}
