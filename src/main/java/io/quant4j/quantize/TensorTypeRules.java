package io.quant4j.quantize;

import io.quant4j.tensor.GgmlType;

/**
 * llama.cpp's per-tensor type choice for a file type (llama_tensor_get_type in llama-quant.cpp, build
 * c392e509), for dense Llama models: more bits for attn_v, ffn_down and attn_output in the K mixes, Q6_K for
 * the output tensor, and the fallbacks for rows that the chosen block size does not divide. The counters
 * (i-th attn_v, i-th ffn_down) advance in the order tensors are visited, which must be llama.cpp's order
 * (see {@link QuantizationPlanner}).
 */
final class TensorTypeRules {
    private final FileType ftype;
    private final int nLayers;
    private final int nGqa;
    private final boolean is70B;
    private final boolean hasOutput;
    private final boolean hasImatrix;
    private final int nAttentionV;
    private int iAttentionV;
    private int iFfnDown;
    int fallbacks;

    TensorTypeRules(FileType ftype, int nLayers, int nGqa, boolean hasOutput, boolean hasImatrix, int nAttentionV) {
        this.ftype = ftype;
        this.nLayers = nLayers;
        this.nGqa = nGqa;
        this.is70B = nLayers == 80;
        this.hasOutput = hasOutput;
        this.hasImatrix = hasImatrix;
        this.nAttentionV = nAttentionV;
    }

    static boolean useMoreBits(int i, int n) {
        return i < n / 8 || i >= 7 * n / 8 || (i - n / 8) % 3 == 2;
    }

    /** The mix type for a tensor that will be quantized; {@code rowLength} is ggml's ne[0]. */
    GgmlType choose(String name, long rowLength, GgmlType outputTypeOverride) {
        GgmlType t = ftype.baseType;
        if (name.equals("output.weight") || (!hasOutput && name.equals("token_embd.weight"))) {
            if (outputTypeOverride != null) {
                t = outputTypeOverride;
            } else if (rowLength % 256 != 0) {
                t = GgmlType.Q8_0;
            } else if (t != GgmlType.Q8_0) {
                t = GgmlType.Q6_K;
            }
        } else if (name.equals("token_embd.weight")) {
            // only IQ/TQ file types change the embedding type; none of ours do
        } else if (name.contains("attn_v.weight")) {
            if (ftype == FileType.Q2_K) {
                t = nGqa >= 4 ? GgmlType.Q4_K : GgmlType.Q3_K;
            } else if (ftype == FileType.Q3_K_M) {
                t = iAttentionV < 2 ? GgmlType.Q5_K : GgmlType.Q4_K;
            } else if (ftype == FileType.Q3_K_L) {
                t = GgmlType.Q5_K;
            } else if (ftype == FileType.IQ4_NL && nGqa >= 4) {
                t = GgmlType.Q5_K;
            } else if ((ftype == FileType.Q4_K_M || ftype == FileType.Q5_K_M) && useMoreBits(iAttentionV, nAttentionV)) {
                t = GgmlType.Q6_K;
            } else if (ftype == FileType.Q4_K_S && iAttentionV < 4) {
                t = GgmlType.Q5_K;
            }
            if (is70B && (t == GgmlType.Q3_K || t == GgmlType.Q4_K)) {
                t = GgmlType.Q5_K;
            }
            iAttentionV++;
        } else if (name.contains("ffn_down")) {
            int i = iFfnDown;
            int n = nLayers;
            if (ftype == FileType.Q2_K) {
                t = GgmlType.Q3_K;
            } else if (ftype == FileType.Q3_K_M) {
                t = i < n / 16 ? GgmlType.Q5_K : GgmlType.Q4_K;
            } else if (ftype == FileType.Q3_K_L) {
                t = GgmlType.Q5_K;
            } else if (ftype == FileType.Q4_K_M) {
                if (useMoreBits(i, n)) {
                    t = GgmlType.Q6_K;
                }
            } else if (i < n / 8 && ftype == FileType.IQ4_NL && !hasImatrix) {
                t = GgmlType.Q5_K;
            } else if (ftype == FileType.Q5_K_M && useMoreBits(i, n)) {
                t = GgmlType.Q6_K;
            } else if (ftype == FileType.Q4_K_S && i < n / 8) {
                t = GgmlType.Q5_K;
            } else if ((ftype == FileType.Q4_0 || ftype == FileType.Q5_0) && hasImatrix && i < n / 8) {
                t = ftype == FileType.Q4_0 ? GgmlType.Q4_1 : GgmlType.Q5_1;
            }
            iFfnDown++;
        } else if (name.contains("attn_output.weight")) {
            if (ftype == FileType.Q2_K) {
                t = GgmlType.Q3_K;
            } else if (ftype == FileType.Q3_K_M) {
                t = GgmlType.Q4_K;
            } else if (ftype == FileType.Q3_K_L) {
                t = GgmlType.Q5_K;
            }
        } else if (name.contains("attn_qkv.weight")) {
            if (ftype == FileType.Q3_K_M || ftype == FileType.Q3_K_L) {
                t = GgmlType.Q4_K;
            } else if (ftype == FileType.Q4_K_M) {
                t = GgmlType.Q5_K;
            } else if (ftype == FileType.Q5_K_M) {
                t = GgmlType.Q6_K;
            }
        }
        return t;
    }

    /**
     * llama.cpp's fallback when the row length is not a multiple of the block: k-quants go to a 32-block type,
     * and to F16 where even 32 does not divide. Returns null where llama.cpp has no fallback (it refuses).
     */
    static GgmlType fallback(GgmlType t, long rowLength) {
        if (rowLength % t.blockSize == 0) {
            return t;
        }
        GgmlType f = switch (t) {
            case Q2_K, Q3_K, IQ4_XS -> GgmlType.IQ4_NL;
            case Q4_K -> GgmlType.Q5_0;
            case Q5_K -> GgmlType.Q5_1;
            case Q6_K -> GgmlType.Q8_0;
            case TQ1_0, TQ2_0 -> GgmlType.Q4_0;
            default -> null;
        };
        if (f == null) {
            return null;
        }
        return rowLength % f.blockSize == 0 ? f : GgmlType.F16;
    }
}
