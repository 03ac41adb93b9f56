package io.quant4j.train;

import java.util.List;
import java.util.random.RandomGenerator;

/**
 * A linear map y = W·x applied to each of {@code rows} input rows ([rows × inputs] → [rows × outputs]), with
 * its backward pass. Frozen, fully trained and LoRA-adapted weights all look like this to the decoder block.
 */
public interface Linear {
    /** What a forward call leaves for its backward call beyond the input itself (LoRA's intermediate rows). */
    interface Saved {
    }

    int inputs();

    int outputs();

    /**
     * Writes y = W·x for every row.
     *
     * @param dropout random source for training-time dropout, or null at evaluation
     * @return what {@link #backward} needs besides x, or null
     */
    Saved forward(double[] x, int rows, double[] y, RandomGenerator dropout);

    /**
     * Adds the gradients of this map's parameters given dy, and adds Wᵀ·dy to dx unless dx is null (nothing
     * below needs it).
     */
    void backward(Saved saved, double[] x, double[] dy, int rows, double[] dx);

    /** The trainable parameters (none for a frozen weight). */
    List<Parameter> parameters();
}
