package io.quant4j.tensor;

/** IEEE half and bfloat16 conversions, rounding to nearest even as ggml does. */
public final class Fp16 {
    private Fp16() {
    }

    public static float toFloat(short h) {
        return Float.float16ToFloat(h);
    }

    public static short fromFloat(float f) {
        return Float.floatToFloat16(f);
    }

    public static float bf16ToFloat(short b) {
        return Float.intBitsToFloat((b & 0xFFFF) << 16);
    }

    /** ggml_compute_fp32_to_bf16: NaN stays a quiet NaN, otherwise round to nearest even. */
    public static short floatToBf16(float f) {
        int bits = Float.floatToRawIntBits(f);
        if ((bits & 0x7fffffff) > 0x7f800000) {
            return (short) ((bits >>> 16) | 64);
        }
        return (short) ((bits + (0x7fff + ((bits >>> 16) & 1))) >>> 16);
    }
}
