package io.quant4j.tensor.bnb;

/**
 * bitsandbytes' code books. NF4 (normal-float, asymmetric: 7 negative values, 0, 8 positive) and FP4 (E2M1 with
 * bias 2, listed by bit pattern, normalized by 12) for 4-bit weights; the signed 8-bit dynamic map (dynamic
 * exponent, create_dynamic_map(signed=True, max_exponent_bits=7)) for double-quantized absmax values. The maps
 * are written into checkpoints (quant_map, nested_quant_map) and read back from them, so a last-bit difference from
 * torch's float arithmetic in the dynamic map cannot make a saved model decode differently.
 */
public final class BnbCodes {
    private BnbCodes() {
    }

    public static final float[] NF4 = {
            -1.0f, -0.6961928009986877f, -0.5250730514526367f, -0.39491748809814453f, -0.28444138169288635f,
            -0.18477343022823334f, -0.09105003625154495f, 0.0f, 0.07958029955625534f, 0.16093020141124725f,
            0.24611230194568634f, 0.33791524171829224f, 0.44070982933044434f, 0.5626170039176941f,
            0.7229568362236023f, 1.0f};

    public static final float[] FP4 = {
            0f, 0.0625f / 12, 8f / 12, 12f / 12, 4f / 12, 6f / 12, 2f / 12, 3f / 12,
            -0f, -0.0625f / 12, -8f / 12, -12f / 12, -4f / 12, -6f / 12, -2f / 12, -3f / 12};

    /** The code book of a 4-bit quant type ("nf4" or "fp4"). */
    public static float[] fourBit(String quantType) {
        return switch (quantType) {
            case "nf4" -> NF4.clone();
            case "fp4" -> FP4.clone();
            default -> throw new IllegalArgumentException("bitsandbytes 4-bit quant type must be nf4 or fp4, got '" + quantType + "'");
        };
    }

    /**
     * create_dynamic_map(signed=True, max_exponent_bits=7, total_bits=8): for exponent i = 0..6, 2^i fraction values
     * (midpoints of linspace(0.1, 1, 2^i + 1)) scaled by 10^(i−6), both signs, plus 0 and 1, sorted.
     */
    public static float[] dynamicMap() {
        float[] data = new float[256];
        int n = 0;
        for (int i = 0; i < 7; i++) {
            int items = (1 << i) + 1;
            float[] bounds = linspace(0.1f, 1f, items);
            double scale = Math.pow(10, -6 + i);
            for (int j = 0; j + 1 < items; j++) {
                float mean = (bounds[j] + bounds[j + 1]) / 2f;
                data[n++] = (float) (scale * mean);
                data[n++] = (float) (-scale * mean);
            }
        }
        data[n++] = 0f;
        data[n++] = 1f;
        java.util.Arrays.sort(data, 0, n);
        return data;
    }

    private static float[] linspace(float start, float end, int steps) {
        float[] out = new float[steps];
        float step = (end - start) / (steps - 1);
        for (int i = 0; i < steps; i++) {
            out[i] = i == steps - 1 ? end : start + step * i;
        }
        return out;
    }
}
