package io.quant4j.peft;

/**
 * The row permutation between GGUF's interleaved RoPE pairs and Hugging Face's rotate-half layout of q/k
 * projection outputs. Within each head HF keeps the first halves of all rotary pairs, then the second halves:
 * HF row (h, j·half + i) is GGUF row (h, 2i + j) — the permutation {@code HuggingFaceModelSource} undoes on load.
 */
public final class RopeRowOrder {
    private RopeRowOrder() {
    }

    /** The HF row holding GGUF row {@code ggufRow} of a projection with heads of {@code headDim} rows. */
    public static int hfRow(int ggufRow, int headDim) {
        int h = ggufRow / headDim;
        int within = ggufRow % headDim;
        return h * headDim + (within % 2) * (headDim / 2) + within / 2;
    }

    /** Rows of a [rows × cols] array moved from GGUF order to HF order. */
    public static double[] toHf(double[] rowsGguf, int rows, int cols, int headDim) {
        double[] out = new double[rowsGguf.length];
        for (int r = 0; r < rows; r++) {
            System.arraycopy(rowsGguf, r * cols, out, hfRow(r, headDim) * cols, cols);
        }
        return out;
    }

    /** Rows of a [rows × cols] array moved from HF order to GGUF order. */
    public static double[] toGguf(double[] rowsHf, int rows, int cols, int headDim) {
        double[] out = new double[rowsHf.length];
        for (int r = 0; r < rows; r++) {
            System.arraycopy(rowsHf, hfRow(r, headDim) * cols, out, r * cols, cols);
        }
        return out;
    }
}
