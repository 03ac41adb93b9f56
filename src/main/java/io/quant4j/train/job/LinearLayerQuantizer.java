package io.quant4j.train.job;

import io.quant4j.model.LlamaWeights;
import io.quant4j.peft.Projection;
import io.quant4j.tensor.GgmlType;
import io.quant4j.tensor.WeightMatrix;
import io.quant4j.tensor.quant.RowCodec;
import io.quant4j.tensor.quant.RowCodecs;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;

/**
 * load_in_4bit / load_in_8bit as bitsandbytes applies them — every linear layer of the decoder quantized, the
 * embedding and lm_head kept — with GGML types standing in for bitsandbytes' formats (quant4j has no NF4/int8
 * kernels yet): IQ4_NL, a 16-level non-uniform 4-bit code with one scale per 32 values (the closest GGML relative of
 * NF4's 16-level code with one absmax per 64), and Q8_0 for 8 bits. Rows whose length is not a multiple of the
 * block (32) stay F16, as llama.cpp's fallback does. Row by row, never a float copy of a whole matrix.
 */
public final class LinearLayerQuantizer {
    private LinearLayerQuantizer() {
    }

    public static LlamaWeights quantize(LlamaWeights w, GgmlType type, Arena arena) {
        List<LlamaWeights.Layer> layers = new ArrayList<>();
        for (LlamaWeights.Layer layer : w.layers()) {
            LlamaWeights.Layer q = layer;
            for (Projection p : Projection.values()) {
                q = p.replace(q, requantize(p.of(layer), type, arena));
            }
            layers.add(q);
        }
        return new LlamaWeights(w.tokenEmbedding(), List.copyOf(layers), w.outputNorm(), w.output());
    }

    static GgmlType typeFor(int rowLength, GgmlType type) {
        return rowLength % type.blockSize == 0 ? type : GgmlType.F16;
    }

    private static WeightMatrix requantize(WeightMatrix m, GgmlType wanted, Arena arena) {
        GgmlType type = typeFor(m.cols(), wanted);
        if (m.type() == type) {
            return m;
        }
        RowCodec codec = RowCodecs.forType(type);
        long rowBytes = type.byteSize(m.cols());
        MemorySegment seg = arena.allocate(rowBytes * m.rows(), 64);
        float[] row = new float[m.cols()];
        for (int r = 0; r < m.rows(); r++) {
            m.dequantizeRow(r, row, 0);
            codec.quantizeRow(row, 0, m.cols(), seg, r * rowBytes, null);
        }
        return WeightMatrix.of(type, seg, m.rows(), m.cols());
    }
}
