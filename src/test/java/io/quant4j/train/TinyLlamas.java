package io.quant4j.train;

import io.quant4j.model.LlamaConfig;
import io.quant4j.model.LlamaWeights;
import io.quant4j.model.RopeScaling;
import io.quant4j.tensor.GgmlType;
import io.quant4j.tensor.WeightMatrix;
import io.quant4j.tensor.quant.RowCodec;
import io.quant4j.tensor.quant.RowCodecs;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/** Random Llama weights of tiny shapes for gradient checks and round trips. */
final class TinyLlamas {
    private TinyLlamas() {
    }

    /** dim 8, 2 layers, 4 heads over 2 KV heads of 2, FFN 12, vocabulary 11. */
    static LlamaConfig config() {
        return config(8, 12, 2, 4, 2, 11);
    }

    static LlamaConfig config(int dim, int hidden, int layers, int heads, int kvHeads, int vocab) {
        return new LlamaConfig("llama", dim, hidden, layers, heads, kvHeads, dim / heads, vocab, 32, 1e-5f, 10000f,
                dim / heads, RopeScaling.NONE, null);
    }

    static LlamaWeights weights(LlamaConfig c, long seed) {
        return weights(c, seed, GgmlType.F32);
    }

    /** Random weights, matrices stored as {@code type} (rows whose length the type cannot hold stay F32). */
    static LlamaWeights weights(LlamaConfig c, long seed, GgmlType type) {
        Random r = new Random(seed);
        List<LlamaWeights.Layer> layers = new ArrayList<>();
        for (int l = 0; l < c.nLayers(); l++) {
            layers.add(new LlamaWeights.Layer(
                    norm(r, c.dim()),
                    matrix(r, c.qDim(), c.dim(), type),
                    matrix(r, c.kvDim(), c.dim(), type),
                    matrix(r, c.kvDim(), c.dim(), type),
                    matrix(r, c.dim(), c.qDim(), type),
                    norm(r, c.dim()),
                    matrix(r, c.hiddenDim(), c.dim(), type),
                    matrix(r, c.dim(), c.hiddenDim(), type),
                    matrix(r, c.hiddenDim(), c.dim(), type)));
        }
        return new LlamaWeights(matrix(r, c.vocabSize(), c.dim(), type), layers, norm(r, c.dim()),
                matrix(r, c.vocabSize(), c.dim(), type));
    }

    static float[] norm(Random r, int n) {
        float[] w = new float[n];
        for (int i = 0; i < n; i++) {
            w[i] = 0.5f + r.nextFloat();
        }
        return w;
    }

    static WeightMatrix matrix(Random r, int rows, int cols, GgmlType type) {
        float[] v = new float[rows * cols];
        float scale = (float) (1.0 / Math.sqrt(cols)) * 1.5f;
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) r.nextGaussian() * scale;
        }
        return store(v, rows, cols, cols % type.blockSize == 0 ? type : GgmlType.F32);
    }

    static WeightMatrix store(float[] v, int rows, int cols, GgmlType type) {
        RowCodec codec = RowCodecs.forType(type);
        long rowBytes = type.byteSize(cols);
        MemorySegment seg = Arena.ofAuto().allocate(rowBytes * rows, 64);
        for (int r = 0; r < rows; r++) {
            codec.quantizeRow(v, r * cols, cols, seg, r * rowBytes, null);
        }
        return WeightMatrix.of(type, seg, rows, cols);
    }

    static int[] tokens(Random r, int n, int vocab) {
        int[] t = new int[n];
        for (int i = 0; i < n; i++) {
            t[i] = r.nextInt(vocab);
        }
        return t;
    }

    static double[] gaussian(Random r, int n) {
        double[] v = new double[n];
        for (int i = 0; i < n; i++) {
            v[i] = r.nextGaussian();
        }
        return v;
    }
}
