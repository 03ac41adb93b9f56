package io.quant4j.quantize.gptq;

import io.quant4j.model.LlamaConfig;
import io.quant4j.model.LlamaWeights;
import io.quant4j.tensor.Parallel;
import io.quant4j.tensor.WeightMatrix;

import java.util.EnumMap;
import java.util.Map;

/**
 * One decoder block dequantized to float (row-major [out × in], q/k rows in quant4j's interleaved order): the only
 * layer GPTQ holds in float at a time. A projection's weights are replaced by their quantized values once it is
 * quantized, so later sub-layers and the next block see the quantized model.
 */
final class FloatLayer {
    final float[] attnNorm;
    final float[] ffnNorm;
    private final Map<Projection, float[]> weights = new EnumMap<>(Projection.class);

    private FloatLayer(float[] attnNorm, float[] ffnNorm) {
        this.attnNorm = attnNorm;
        this.ffnNorm = ffnNorm;
    }

    static FloatLayer of(LlamaWeights.Layer layer, LlamaConfig c) {
        FloatLayer f = new FloatLayer(layer.attnNorm(), layer.ffnNorm());
        for (Projection p : Projection.values()) {
            f.weights.put(p, dequantize(p.of(layer)));
        }
        return f;
    }

    static float[] dequantize(WeightMatrix m) {
        int cols = m.cols();
        float[] out = new float[Math.multiplyExact(m.rows(), cols)];
        Parallel.forRange(m.rows(), cols, (from, to) -> {
            for (int r = from; r < to; r++) {
                m.dequantizeRow(r, out, r * cols);
            }
        });
        return out;
    }

    float[] weight(Projection p) {
        return weights.get(p);
    }

    void replace(Projection p, float[] w) {
        if (w.length != weights.get(p).length) {
            throw new IllegalArgumentException(p + ": replacement has " + w.length + " values");
        }
        weights.put(p, w);
    }
}
