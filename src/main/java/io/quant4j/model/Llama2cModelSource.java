package io.quant4j.model;

import io.quant4j.format.BoundedReader;
import io.quant4j.format.MappedFile;
import io.quant4j.format.ModelFormatException;
import io.quant4j.tensor.F32Matrix;
import io.quant4j.tensor.WeightMatrix;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Builds {@link ModelWeights} from a llama2.c checkpoint (the legacy export that run.c reads): seven int32
 * hyper-parameters, then F32 arrays in run.c's order, each stacked over layers. Matrices are slices of the mapped
 * file (no copy). llama2.c trains with interleaved-pair RoPE, so q/k are already in GGUF's layout. A negative
 * vocab_size means the classifier is not tied to the embedding and follows the RoPE tables at the end.
 */
public final class Llama2cModelSource {
    private static final int HEADER_BYTES = 7 * 4;
    /** "ak42": the magic of llama2.c's later export versions (header padded to 256 bytes, optional int8). */
    private static final int VERSIONED_MAGIC = 0x616b3432;
    private static final float RMS_NORM_EPS = 1e-5f;
    private static final float ROPE_THETA = 10000f;

    private Llama2cModelSource() {
    }

    public static ModelWeights load(Path bin) {
        Arena arena = Arena.ofShared();
        try {
            return parse(bin, arena, MappedFile.map(bin, arena, "a llama2.c checkpoint"));
        } catch (RuntimeException e) {
            arena.close();
            throw e;
        }
    }

    /** Byte offsets of the arrays, computed from the header with overflow checks. */
    private record Layout(long tokenEmbedding, long rmsAtt, long wq, long wk, long wv, long wo, long rmsFfn,
                          long w1, long w2, long w3, long rmsFinal, long freqCis, long wcls, long end) {
    }

    private static ModelWeights parse(Path path, Arena arena, MemorySegment file) {
        BoundedReader r = new BoundedReader(path, file);
        if (r.size() < HEADER_BYTES) {
            throw new ModelFormatException(path, "not a llama2.c checkpoint: " + r.size() + " bytes is shorter than its 28-byte header");
        }
        int dim = r.i32("dim");
        if (dim == VERSIONED_MAGIC) {
            throw new ModelFormatException(path, "is a versioned llama2.c export (magic \"ak42\"); quant4j reads the legacy format (7 int32 header, F32 weights)");
        }
        int hidden = r.i32("hidden_dim");
        int layers = r.i32("n_layers");
        int heads = r.i32("n_heads");
        int kvHeads = r.i32("n_kv_heads");
        int storedVocab = r.i32("vocab_size");
        int seqLen = r.i32("seq_len");
        String header = "header (dim " + dim + ", hidden_dim " + hidden + ", n_layers " + layers + ", n_heads " + heads
                + ", n_kv_heads " + kvHeads + ", vocab_size " + storedVocab + ", seq_len " + seqLen + ")";
        if (dim <= 0 || hidden <= 0 || layers <= 0 || heads <= 0 || kvHeads <= 0 || seqLen <= 0
                || storedVocab == 0 || storedVocab == Integer.MIN_VALUE) {
            throw new ModelFormatException(path, "not a llama2.c checkpoint: " + header + " has sizes that are not positive");
        }
        if (dim % heads != 0 || kvHeads > heads || heads % kvHeads != 0 || (dim / heads) % 2 != 0) {
            throw new ModelFormatException(path, "not a llama2.c checkpoint: " + header + " is inconsistent "
                    + "(dim must split into n_heads heads of even size, n_heads must be a multiple of n_kv_heads)");
        }
        boolean shared = storedVocab > 0;
        int vocab = Math.abs(storedVocab);
        int headSize = dim / heads;
        int kvDim = kvHeads * headSize;

        Layout at;
        try {
            at = layout(dim, hidden, layers, kvDim, vocab, seqLen, headSize, shared);
        } catch (ArithmeticException e) {
            throw new ModelFormatException(path, "not a llama2.c checkpoint: " + header + " describes an absurdly large model");
        }
        if (at.end() != r.size()) {
            throw new ModelFormatException(path, (at.end() > r.size() ? "truncated or not a llama2.c checkpoint" : "not a llama2.c checkpoint")
                    + ": the " + header + " implies " + at.end() + " bytes but the file has " + r.size());
        }
        LlamaConfig config;
        try {
            config = new LlamaConfig("llama", dim, hidden, layers, heads, kvHeads, headSize, vocab, seqLen,
                    RMS_NORM_EPS, ROPE_THETA, headSize, RopeScaling.NONE, null);
        } catch (IllegalArgumentException e) {
            throw new ModelFormatException(path, "bad hyper-parameters: " + e.getMessage());
        }

        long dd = 4L * dim * dim;
        long dkv = 4L * dim * kvDim;
        long dh = 4L * dim * hidden;
        List<LlamaWeights.Layer> list = new ArrayList<>();
        for (int l = 0; l < layers; l++) {
            list.add(new LlamaWeights.Layer(
                    floats(file, at.rmsAtt() + 4L * l * dim, dim),
                    matrix(file, at.wq() + l * dd, dim, dim),
                    matrix(file, at.wk() + l * dkv, kvDim, dim),
                    matrix(file, at.wv() + l * dkv, kvDim, dim),
                    matrix(file, at.wo() + l * dd, dim, dim),
                    floats(file, at.rmsFfn() + 4L * l * dim, dim),
                    matrix(file, at.w1() + l * dh, hidden, dim),
                    matrix(file, at.w2() + l * dh, dim, hidden),
                    matrix(file, at.w3() + l * dh, hidden, dim)));
        }
        WeightMatrix embedding = matrix(file, at.tokenEmbedding(), vocab, dim);
        WeightMatrix output = shared ? embedding : matrix(file, at.wcls(), vocab, dim);
        LlamaWeights weights = new LlamaWeights(embedding, List.copyOf(list), floats(file, at.rmsFinal(), dim), output);

        Map<String, String> metadata = new LinkedHashMap<>();
        metadata.put("dim", Integer.toString(dim));
        metadata.put("hidden_dim", Integer.toString(hidden));
        metadata.put("n_layers", Integer.toString(layers));
        metadata.put("n_heads", Integer.toString(heads));
        metadata.put("n_kv_heads", Integer.toString(kvHeads));
        metadata.put("vocab_size", Integer.toString(storedVocab));
        metadata.put("seq_len", Integer.toString(seqLen));
        metadata.put("shared_classifier", Boolean.toString(shared));
        return new ModelWeights("llama2.c", config, weights, metadata,
                tensorTable(at, dim, hidden, layers, kvDim, vocab, seqLen, headSize, shared), List.of(arena));
    }

    private static Layout layout(int dim, int hidden, int layers, int kvDim, int vocab, int seqLen, int headSize, boolean shared) {
        long o = HEADER_BYTES;
        long tokenEmbedding = o;
        o = advance(o, vocab, dim, 1);
        long rmsAtt = o;
        o = advance(o, layers, dim, 1);
        long wq = o;
        o = advance(o, layers, dim, dim);
        long wk = o;
        o = advance(o, layers, dim, kvDim);
        long wv = o;
        o = advance(o, layers, dim, kvDim);
        long wo = o;
        o = advance(o, layers, dim, dim);
        long rmsFfn = o;
        o = advance(o, layers, dim, 1);
        long w1 = o;
        o = advance(o, layers, dim, hidden);
        long w2 = o;
        o = advance(o, layers, hidden, dim);
        long w3 = o;
        o = advance(o, layers, dim, hidden);
        long rmsFinal = o;
        o = advance(o, dim, 1, 1);
        long freqCis = o;
        o = advance(o, seqLen, headSize / 2, 2); // freq_cis_real and freq_cis_imag, unused: RoPE is computed
        long wcls = o;
        if (!shared) {
            o = advance(o, vocab, dim, 1);
        }
        return new Layout(tokenEmbedding, rmsAtt, wq, wk, wv, wo, rmsFfn, w1, w2, w3, rmsFinal, freqCis, wcls, o);
    }

    /** offset + a·b·c floats, failing on overflow. */
    private static long advance(long offset, long a, long b, long c) {
        return Math.addExact(offset, Math.multiplyExact(4L, Math.multiplyExact(a, Math.multiplyExact(b, c))));
    }

    private static WeightMatrix matrix(MemorySegment file, long offset, int rows, int cols) {
        return new F32Matrix(file.asSlice(offset, 4L * rows * cols), rows, cols);
    }

    private static float[] floats(MemorySegment file, long offset, int n) {
        float[] out = new float[n];
        MemorySegment.copy(file, ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), offset, out, 0, n);
        return out;
    }

    /** The arrays as run.c declares them, PyTorch order (the last dimension contiguous). */
    private static List<TensorEntry> tensorTable(Layout at, int dim, int hidden, int layers, int kvDim, int vocab, int seqLen,
                                                 int headSize, boolean shared) {
        List<TensorEntry> t = new ArrayList<>();
        t.add(entry("token_embedding_table", vocab, dim));
        t.add(entry("rms_att_weight", layers, dim));
        t.add(entry("wq", layers, dim, dim));
        t.add(entry("wk", layers, kvDim, dim));
        t.add(entry("wv", layers, kvDim, dim));
        t.add(entry("wo", layers, dim, dim));
        t.add(entry("rms_ffn_weight", layers, dim));
        t.add(entry("w1", layers, hidden, dim));
        t.add(entry("w2", layers, dim, hidden));
        t.add(entry("w3", layers, hidden, dim));
        t.add(entry("rms_final_weight", dim));
        t.add(entry("freq_cis_real", seqLen, headSize / 2));
        t.add(entry("freq_cis_imag", seqLen, headSize / 2));
        if (!shared) {
            t.add(entry("wcls", vocab, dim));
        }
        return t;
    }

    private static TensorEntry entry(String name, long... shape) {
        long n = 4;
        for (long d : shape) {
            n *= d;
        }
        return new TensorEntry(name, shape, "F32", n);
    }
}
