package io.quant4j.model;

/**
 * The two row orders of q_proj/k_proj. Hugging Face keeps, within each head, the first halves of all rotary pairs
 * and then the second halves (rotate-half); GGUF and quant4j interleave each pair. HF row (h, j·half + i) is GGUF
 * row (h, 2i + j).
 */
public final class RopeRowOrder {
    private RopeRowOrder() {
    }

    /** For each GGUF row, the HF row holding the same output feature. */
    public static int[] hfRowOfGgufRow(int heads, int headDim) {
        int half = headDim / 2;
        int[] out = new int[heads * headDim];
        for (int h = 0; h < heads; h++) {
            for (int i = 0; i < half; i++) {
                for (int j = 0; j < 2; j++) {
                    out[h * headDim + 2 * i + j] = h * headDim + j * half + i;
                }
            }
        }
        return out;
    }

    /** For each HF row, the GGUF row holding the same output feature. */
    public static int[] ggufRowOfHfRow(int heads, int headDim) {
        int[] fwd = hfRowOfGgufRow(heads, headDim);
        int[] inv = new int[fwd.length];
        for (int g = 0; g < fwd.length; g++) {
            inv[fwd[g]] = g;
        }
        return inv;
    }
}
