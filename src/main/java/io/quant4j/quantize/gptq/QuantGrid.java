package io.quant4j.quantize.gptq;

import io.quant4j.tensor.Fp16;

/**
 * GPTQ's uniform grid (gptq/quant.py Quantizer.find_params / quantize) for one row of one group: the range is
 * widened to include 0; symmetric grids use ±max|x| with the zero point fixed at (maxq+1)/2; asymmetric ones put the
 * zero point at round(−min/scale); an all-zero range becomes [−1, 1]. Codes are clamp(round(x/scale) + zero, 0, maxq)
 * with round-half-even (torch.round).
 *
 * <p>One deliberate difference: the scale is rounded to fp16 when it is found, because the checkpoint stores fp16
 * scales. The error feedback then compensates the weights the checkpoint really holds (AutoGPTQ quantizes with
 * fp32 scales and re-derives codes against fp16 scales when packing).
 */
record QuantGrid(float scale, int zero, int maxq) {
    private static final float MIN_SCALE = Float.float16ToFloat((short) 1);      // smallest fp16 subnormal
    private static final float MAX_SCALE = Float.float16ToFloat((short) 0x7bff); // 65504

    static QuantGrid fit(float min, float max, int bits, boolean sym) {
        int maxq = (1 << bits) - 1;
        float xmin = Math.min(min, 0f);
        float xmax = Math.max(max, 0f);
        if (sym) {
            xmax = Math.max(Math.abs(xmin), xmax);
            if (xmin < 0) {
                xmin = -xmax;
            }
        }
        if (xmin == 0f && xmax == 0f) {
            xmin = -1f;
            xmax = 1f;
        }
        float scale = (xmax - xmin) / maxq;
        scale = Fp16.toFloat(Fp16.fromFloat(Math.min(Math.max(scale, MIN_SCALE), MAX_SCALE)));
        int zero = sym ? (maxq + 1) / 2 : (int) Math.max(0, Math.min(maxq, Math.rint(-xmin / scale)));
        return new QuantGrid(scale, zero, maxq);
    }

    /** The grid of values[from, to) of one row. */
    static QuantGrid fit(float[] values, int from, int to, int bits, boolean sym) {
        float min = Float.POSITIVE_INFINITY;
        float max = Float.NEGATIVE_INFINITY;
        for (int i = from; i < to; i++) {
            min = Math.min(min, values[i]);
            max = Math.max(max, values[i]);
        }
        if (from == to) {
            min = 0f;
            max = 0f;
        }
        return fit(min, max, bits, sym);
    }

    int code(float x) {
        float q = (float) Math.rint(x / scale) + zero;
        return (int) Math.max(0f, Math.min(maxq, q));
    }

    float value(int code) {
        return scale * (code - zero);
    }

    short scaleFp16() {
        return Fp16.fromFloat(scale);
    }
}
