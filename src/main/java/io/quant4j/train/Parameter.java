package io.quant4j.train;

/**
 * A trainable tensor of {@code rows × cols} values (a vector has one row), named as Hugging Face names it
 * ({@code model.layers.4.mlp.up_proj.weight}, {@code ...q_proj.lora_A.weight}). Values and gradients are double;
 * q/k projection rows stay in GGUF's interleaved RoPE order until saved.
 */
public final class Parameter {
    private final String name;
    private final int rows;
    private final int cols;
    private final double[] value;
    private final double[] grad;
    private final boolean decays;

    /**
     * @param decays whether AdamW's weight decay applies (matrices yes; norm weights no, as transformers' Trainer
     *               exempts normalization layers)
     */
    public Parameter(String name, int rows, int cols, boolean decays) {
        this.name = name;
        this.rows = rows;
        this.cols = cols;
        this.value = new double[Math.multiplyExact(rows, cols)];
        this.grad = new double[value.length];
        this.decays = decays;
    }

    public static Parameter matrix(String name, int rows, int cols) {
        return new Parameter(name, rows, cols, true);
    }

    public static Parameter vector(String name, int n) {
        return new Parameter(name, 1, n, false);
    }

    public String name() {
        return name;
    }

    public int rows() {
        return rows;
    }

    public int cols() {
        return cols;
    }

    public int size() {
        return value.length;
    }

    public double[] value() {
        return value;
    }

    public double[] grad() {
        return grad;
    }

    public boolean decays() {
        return decays;
    }

    public void zeroGrad() {
        java.util.Arrays.fill(grad, 0);
    }

    @Override
    public String toString() {
        return name + " [" + rows + ", " + cols + "]";
    }
}
