package io.quant4j.quantize.gptq;

import io.quant4j.tensor.Parallel;

import java.util.Arrays;
import java.util.concurrent.atomic.DoubleAdder;

/**
 * Quantizes one linear layer: GPTQ's fasterquant (gptq/gptq.py; AutoGPTQ quantization/gptq.py) or round to nearest.
 *
 * <p>GPTQ, given W [rows × cols] and H = (2/N)·Σ x·xᵀ over the layer's calibration inputs: dead inputs (H_ii = 0)
 * get H_ii = 1 and zero weights; with act-order the columns are visited by decreasing H_ii; H is dampened by
 * {@code damp}·mean(diag H); U = upper Cholesky factor of H⁻¹. Columns are then quantized one by one; each column's
 * error, divided by U_ii, is pushed onto the not yet quantized columns through row i of U — within a lazy batch of
 * {@code blockSize} columns immediately, onto later columns once per batch. Group grids are fitted when a group's
 * first column comes up, on the weights as updated by all earlier batches (exactly what the reference reads: its
 * {@code W[:, i:i+groupsize]} has not yet seen the current batch's updates), or up front with static groups.
 *
 * <p>Every row's updates depend only on that row and U, so rows are processed in independent tiles across threads,
 * the batch structure keeping a tile's reads of U in cache.
 */
final class GptqSolver {
    private static final int ROW_TILE = 32;
    private static final int DAMP_RETRIES = 8;

    /** The quantized layer, its GPTQ loss Σ(w−q)²/U_ii²/2, and the dampening finally used. */
    record Solution(QuantizedLinear layer, double loss, double damp) {
    }

    private GptqSolver() {
    }

    /** Round to nearest on the same grid: groups of consecutive columns, no error feedback. */
    static QuantizedLinear rtn(float[] w, int rows, int cols, GptqOptions o) {
        int gs = o.groupWidth(cols);
        int groups = Math.max(1, Math.ceilDiv(cols, gs));
        byte[] codes = new byte[rows * cols];
        short[] scales = new short[groups * rows];
        int[] zeros = new int[groups * rows];
        Parallel.forRange(rows, (long) cols * 8, (from, to) -> {
            for (int r = from; r < to; r++) {
                int base = r * cols;
                for (int g = 0; g < groups; g++) {
                    int c0 = g * gs;
                    int c1 = Math.min(cols, c0 + gs);
                    QuantGrid grid = QuantGrid.fit(w, base + c0, base + c1, o.bits(), o.sym());
                    scales[g * rows + r] = grid.scaleFp16();
                    zeros[g * rows + r] = grid.zero();
                    for (int c = c0; c < c1; c++) {
                        codes[base + c] = (byte) grid.code(w[base + c]);
                    }
                }
            }
        });
        int[] gIdx = new int[cols];
        for (int c = 0; c < cols; c++) {
            gIdx[c] = c / gs;
        }
        return new QuantizedLinear(rows, cols, o.bits(), o.groupSize(), groups, codes, scales, zeros, gIdx);
    }

    /**
     * What GPTQ derives from the Hessian alone — dead inputs, the column order, the inverse Cholesky factor — shared by
     * the projections that read the same input (k, v and q; up and gate), which the reference recomputes per projection.
     */
    record Prepared(boolean[] dead, int[] perm, float[] u, double damp) {
    }

    /** Prepares H (cols×cols, symmetric, row-major; modified: dead diagonals set to 1). */
    static Prepared prepare(double[] h, int cols, GptqOptions o) {
        boolean[] dead = new boolean[cols];
        for (int c = 0; c < cols; c++) {
            if (h[c * cols + c] == 0) {
                h[c * cols + c] = 1;
                dead[c] = true;
            }
        }
        int[] perm = o.actOrder() ? byDecreasingDiagonal(h, cols) : identity(cols);
        double meanDiag = 0;
        for (int c = 0; c < cols; c++) {
            meanDiag += h[c * cols + c];
        }
        meanDiag /= cols;
        double damp = o.damp();
        for (int attempt = 0; ; attempt++) {
            double[] damped = o.actOrder() ? permuteSymmetric(h, cols, perm) : h.clone();
            for (int c = 0; c < cols; c++) {
                damped[c * cols + c] += damp * meanDiag;
            }
            try {
                return new Prepared(dead, perm, InverseCholesky.upperOfInverse(damped, cols), damp);
            } catch (InverseCholesky.NotPositiveDefinite e) {
                // GPTQModel's damp_auto_increment: the reference would stop here; more dampening is the usual remedy.
                if (attempt == DAMP_RETRIES) {
                    throw new IllegalStateException(e.getMessage() + " even with dampening " + damp);
                }
                damp = damp == 0 ? 0.01 : damp * 2;
            }
        }
    }

    /** GPTQ; {@code w} (row-major) and {@code h} (cols×cols, symmetric, row-major) are used as scratch. */
    static Solution gptq(float[] w, int rows, int cols, double[] h, GptqOptions o) {
        return gptq(w, rows, cols, prepare(h, cols, o), o);
    }

    /** GPTQ with a prepared Hessian; {@code w} is used as scratch. */
    static Solution gptq(float[] w, int rows, int cols, Prepared prepared, GptqOptions o) {
        int gs = o.groupWidth(cols);
        int groups = Math.max(1, Math.ceilDiv(cols, gs));
        int bits = o.bits();
        boolean sym = o.sym();

        // Per-row grids over the whole row, for group size -1 (the reference fits these before zeroing dead columns).
        QuantGrid[] perChannel = new QuantGrid[rows];
        if (o.groupSize() == -1) {
            for (int r = 0; r < rows; r++) {
                perChannel[r] = QuantGrid.fit(w, r * cols, (r + 1) * cols, bits, sym);
            }
        }
        for (int c = 0; c < cols; c++) {
            if (prepared.dead()[c]) {
                for (int r = 0; r < rows; r++) {
                    w[r * cols + c] = 0f;
                }
            }
        }
        QuantGrid[] staticGrids = null;
        if (o.staticGroups() && o.groupSize() != -1) {
            staticGrids = new QuantGrid[groups * rows];
            for (int g = 0; g < groups; g++) {
                for (int r = 0; r < rows; r++) {
                    staticGrids[g * rows + r] = QuantGrid.fit(w, r * cols + g * gs, r * cols + Math.min(cols, (g + 1) * gs), bits, sym);
                }
            }
        }
        int[] perm = prepared.perm();
        float[] wp = o.actOrder() ? permuteColumns(w, rows, cols, perm) : w;
        float[] u = prepared.u();
        double damp = prepared.damp();

        byte[] codesPerm = new byte[rows * cols];
        short[] scales = new short[groups * rows];
        int[] zeros = new int[groups * rows];
        if (staticGrids != null) {
            for (int i = 0; i < staticGrids.length; i++) {
                scales[i] = staticGrids[i].scaleFp16();
                zeros[i] = staticGrids[i].zero();
            }
        }
        DoubleAdder loss = new DoubleAdder();
        final float[] uf = u;
        final int[] permF = perm;
        final QuantGrid[] staticF = staticGrids;
        int tiles = Math.ceilDiv(rows, ROW_TILE);
        Parallel.forRange(tiles, (long) ROW_TILE * cols * cols / 2, (t0, t1) -> {
            for (int t = t0; t < t1; t++) {
                int r0 = t * ROW_TILE;
                int r1 = Math.min(rows, r0 + ROW_TILE);
                loss.add(solveTile(wp, uf, rows, cols, r0, r1, o, gs, perChannel, staticF, permF, codesPerm, scales, zeros));
            }
        });

        byte[] codes = new byte[rows * cols];
        int[] gIdx = new int[cols];
        for (int c = 0; c < cols; c++) {
            int k = perm[c];
            for (int r = 0; r < rows; r++) {
                codes[r * cols + k] = codesPerm[r * cols + c];
            }
            gIdx[k] = o.groupSize() == -1 ? 0 : (staticGrids != null ? k / gs : c / gs);
        }
        QuantizedLinear q = new QuantizedLinear(rows, cols, bits, o.groupSize(), groups, codes, scales, zeros, gIdx);
        return new Solution(q, loss.sum(), damp);
    }

    private static double solveTile(float[] wp, float[] u, int rows, int cols, int r0, int r1, GptqOptions o, int gs,
                                    QuantGrid[] perChannel, QuantGrid[] staticGrids, int[] perm, byte[] codes,
                                    short[] scales, int[] zeros) {
        int n = r1 - r0;
        int bs = o.blockSize();
        float[] block = new float[n * bs];
        float[] err = new float[n * bs];
        QuantGrid[] grid = new QuantGrid[n];
        double loss = 0;
        for (int r = 0; r < n; r++) {
            grid[r] = perChannel[r0 + r];
            if (grid[r] != null) {
                scales[r0 + r] = grid[r].scaleFp16();
                zeros[r0 + r] = grid[r].zero();
            }
        }
        for (int i1 = 0; i1 < cols; i1 += bs) {
            int i2 = Math.min(cols, i1 + bs);
            int count = i2 - i1;
            for (int r = 0; r < n; r++) {
                System.arraycopy(wp, (r0 + r) * cols + i1, block, r * bs, count);
            }
            for (int i = 0; i < count; i++) {
                int col = i1 + i;
                if (o.groupSize() != -1) {
                    if (staticGrids != null) {
                        int g = (o.actOrder() ? perm[col] : col) / gs;
                        for (int r = 0; r < n; r++) {
                            grid[r] = staticGrids[g * rows + r0 + r];
                        }
                    } else if (col % gs == 0) {
                        int g = col / gs;
                        int end = Math.min(cols, col + gs);
                        for (int r = 0; r < n; r++) {
                            int row = (r0 + r) * cols;
                            grid[r] = QuantGrid.fit(wp, row + col, row + end, o.bits(), o.sym());
                            scales[g * rows + r0 + r] = grid[r].scaleFp16();
                            zeros[g * rows + r0 + r] = grid[r].zero();
                        }
                    }
                }
                float d = u[col * cols + col];
                int uRow = col * cols;
                for (int r = 0; r < n; r++) {
                    float x = block[r * bs + i];
                    int code = grid[r].code(x);
                    float q = grid[r].value(code);
                    codes[(r0 + r) * cols + col] = (byte) code;
                    float e = (x - q) / d;
                    loss += (double) e * e / 2;
                    err[r * bs + i] = e;
                    if (i + 1 < count) {
                        Gemm.axpy(-e, u, uRow + col + 1, block, r * bs + i + 1, count - i - 1);
                    }
                }
            }
            if (i2 < cols) {
                // Lazy update of the columns after this batch: W[:, i2:] -= Err · U[i1:i2, i2:].
                LazyBatchUpdate.apply(wp, cols, r0, n, err, bs, count, u, i1, i2);
            }
        }
        return loss;
    }

    private static int[] identity(int n) {
        int[] p = new int[n];
        for (int i = 0; i < n; i++) {
            p[i] = i;
        }
        return p;
    }

    /** argsort(diag(H), descending), stable so that ties keep column order. */
    static int[] byDecreasingDiagonal(double[] h, int n) {
        Integer[] idx = new Integer[n];
        for (int i = 0; i < n; i++) {
            idx[i] = i;
        }
        Arrays.sort(idx, (a, b) -> Double.compare(h[b * n + b], h[a * n + a]));
        int[] p = new int[n];
        for (int i = 0; i < n; i++) {
            p[i] = idx[i];
        }
        return p;
    }

    private static float[] permuteColumns(float[] w, int rows, int cols, int[] perm) {
        float[] out = new float[w.length];
        for (int r = 0; r < rows; r++) {
            int base = r * cols;
            for (int c = 0; c < cols; c++) {
                out[base + c] = w[base + perm[c]];
            }
        }
        return out;
    }

    private static double[] permuteSymmetric(double[] h, int n, int[] perm) {
        double[] out = new double[h.length];
        for (int i = 0; i < n; i++) {
            int src = perm[i] * n;
            for (int j = 0; j < n; j++) {
                out[i * n + j] = h[src + perm[j]];
            }
        }
        return out;
    }
}
