package io.quant4j.peft;

import io.quant4j.tensor.WeightMatrix;

/**
 * A base weight of any type with a LoRA update on top, for inference: W' = W + scale · B·A with A [r × cols] and
 * B [rows × r] (rows in the base's order). {@link #matVec} computes A·x once per call and then
 * base·x + scale · B·(A·x) row by row, so the update costs r·(rows + cols) per token instead of a merged matrix.
 * It reports the base's type (or layout), but its values are not the base's bytes: writers must go through
 * {@link #dequantizeRow} (the merged row).
 */
public final class LoraMatrix extends WeightMatrix {
    private final WeightMatrix base;
    private final float[] a;
    private final float[] b;
    private final int rank;
    private final float scale;

    public LoraMatrix(WeightMatrix base, float[] a, float[] b, int rank, double scale) {
        super(base); // also over layouts outside ggml (bitsandbytes, GPTQ), which have no ggml type
        if (a.length != rank * base.cols() || b.length != base.rows() * rank) {
            throw new IllegalArgumentException("LoRA A/B of " + a.length + "/" + b.length + " values do not fit rank " + rank
                    + " over " + base.rows() + "x" + base.cols());
        }
        this.base = base;
        this.a = a;
        this.b = b;
        this.rank = rank;
        this.scale = (float) scale;
    }

    public WeightMatrix base() {
        return base;
    }

    /** The base's bytes plus the adapter's float A and B. */
    @Override
    public long storageBytes() {
        return base.storageBytes() + 4L * (a.length + b.length);
    }

    private float[] lowRank(float[] x, int xOffset) {
        float[] ax = new float[rank];
        for (int j = 0; j < rank; j++) {
            float s = 0;
            for (int c = 0; c < cols; c++) {
                s += a[j * cols + c] * x[xOffset + c];
            }
            ax[j] = s;
        }
        return ax;
    }

    private float update(int row, float[] ax) {
        float s = 0;
        for (int j = 0; j < rank; j++) {
            s += b[row * rank + j] * ax[j];
        }
        return scale * s;
    }

    @Override
    public float dot(int row, float[] x, int xOffset) {
        return base.dot(row, x, xOffset) + update(row, lowRank(x, xOffset));
    }

    @Override
    public void matVec(float[] x, float[] out, int from, int to) {
        float[] ax = lowRank(x, 0);
        base.matVec(x, out, from, to); // the base's own kernel: integer kernels, LLM.int8's once-per-call outlier split
        for (int r = from; r < to; r++) {
            out[r] += update(r, ax);
        }
    }

    @Override
    public void dequantizeRow(int row, float[] out, int outOffset) {
        base.dequantizeRow(row, out, outOffset);
        for (int c = 0; c < cols; c++) {
            float s = 0;
            for (int j = 0; j < rank; j++) {
                s += b[row * rank + j] * a[j * cols + c];
            }
            out[outOffset + c] += scale * s;
        }
    }
}
