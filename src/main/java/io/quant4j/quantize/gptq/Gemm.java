package io.quant4j.quantize.gptq;

import io.quant4j.tensor.Parallel;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * The dense products calibration needs, over row-major float matrices: a layer's outputs X·Wᵀ (W stored [out × in])
 * and a Hessian's XᵀX. Both go through one packed kernel in the manner of BLIS: for a slice of {@link #KC} inner
 * indices, a block of {@link #NC} output columns is packed k-major in panels of {@link #NR} (it stays in L2) and each
 * group of {@link #MR} rows is packed k-major (it stays in L1); the register tile of MR×NR accumulators then takes,
 * per inner index, two vector loads and MR broadcasts for 2·MR fused multiply-adds. XᵀX needs no transposition:
 * both of its operands are read along X's rows. Column blocks are split across the pool ({@link #abTReference} is the
 * scalar definition the tests hold it to).
 */
final class Gemm {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    /** Rows of the register tile. */
    static final int MR = 6;
    /** Columns of the register tile: two vectors (16 floats with AVX2). */
    static final int NR = 2 * S.length();
    /** Inner indices per packed slice. */
    static final int KC = 256;
    /** Output columns per packed block (KC·NC floats = 128 KiB). */
    static final int NC = 128;

    private Gemm() {
    }

    /** An operand: element (i, k) at data[i·ld + k] (row-major) or data[k·ld + i] (k-major). */
    private record Operand(float[] data, int ld, boolean kMajor) {
    }

    /**
     * c[i·ldc + j] (+)= Σ_k a[i·n + k] · b[j·n + k] for i < m, j < p. With {@code lowerOnly}, only j ≤ i is written
     * (symmetric products; the caller mirrors).
     */
    static void abT(float[] a, int m, float[] b, int p, int n, float[] c, int ldc, boolean accumulate, boolean lowerOnly) {
        multiply(new Operand(a, n, false), m, new Operand(b, n, false), p, n, c, ldc, accumulate, lowerOnly, true);
    }

    /** The lower triangle of c = xᵀ·x (n×n, ldc = n) for x [count × n] row-major, overwritten. */
    static void ataLower(float[] x, int count, int n, float[] c) {
        Operand xt = new Operand(x, n, true);
        multiply(xt, n, xt, n, count, c, n, false, true, true);
    }

    /** c = a·bᵀ (overwritten) on the calling thread, for callers that already run in parallel. */
    static void abTSerial(float[] a, int m, float[] b, int p, int n, float[] c, int ldc) {
        multiply(new Operand(a, n, false), m, new Operand(b, n, false), p, n, c, ldc, false, false, false);
    }

    private static void multiply(Operand a, int m, Operand b, int p, int n, float[] c, int ldc, boolean accumulate,
                                 boolean lowerOnly, boolean parallel) {
        int blocks = Math.ceilDiv(p, NC);
        int rowTiles = Math.ceilDiv(m, MR);
        // Under lowerOnly a block's work falls with its first column: pair the first with the last.
        int tasks = lowerOnly ? Math.ceilDiv(blocks, 2) : blocks;
        if (!accumulate) {
            run(parallel, m, p, (from, to) -> {
                for (int i = from; i < to; i++) {
                    java.util.Arrays.fill(c, i * ldc, i * ldc + (lowerOnly ? Math.min(p, i + 1) : p), 0f);
                }
            });
        }
        // A's slice is packed once for all column blocks (packing it per block cost a quarter of the product).
        float[] aPack = new float[rowTiles * MR * KC];
        for (int k0 = 0; k0 < n; k0 += KC) {
            final int ks = k0;
            final int kc = Math.min(KC, n - k0);
            run(parallel, rowTiles, (long) MR * kc, (from, to) -> {
                for (int t = from; t < to; t++) {
                    pack(a, t * MR, Math.min(MR, m - t * MR), MR, ks, kc, aPack, t * MR * KC);
                }
            });
            run(parallel, tasks, (long) m * kc * NC / (lowerOnly ? 1 : 2), (from, to) -> {
                float[] bPack = new float[KC * NC];
                float[] tile = new float[MR * NR];
                for (int t = from; t < to; t++) {
                    columnBlock(aPack, m, b, p, ks, kc, c, ldc, lowerOnly, t, bPack, tile);
                    int q = blocks - 1 - t;
                    if (lowerOnly && q != t) {
                        columnBlock(aPack, m, b, p, ks, kc, c, ldc, true, q, bPack, tile);
                    }
                }
            });
        }
    }

    private static void run(boolean parallel, int n, long workPerItem, Parallel.RangeBody body) {
        if (parallel) {
            Parallel.forRange(n, workPerItem, body);
        } else {
            body.run(0, n);
        }
    }

    /**
     * Adds slice [k0, k0+kc) of the product to columns [block·NC, +NC) of c, every row (under lowerOnly, the rows at or
     * below the block's first column); A's slice is already packed.
     */
    private static void columnBlock(float[] aPack, int m, Operand b, int p, int k0, int kc, float[] c, int ldc,
                                    boolean lowerOnly, int block, float[] bPack, float[] tile) {
        int j0 = block * NC;
        int j1 = Math.min(p, j0 + NC);
        int panels = Math.ceilDiv(j1 - j0, NR);
        for (int q = 0; q < panels; q++) {
            pack(b, j0 + q * NR, Math.min(NR, j1 - j0 - q * NR), NR, k0, kc, bPack, q * KC * NR);
        }
        for (int t = lowerOnly ? j0 / MR : 0; t * MR < m; t++) {
            int i0 = t * MR;
            int rows = Math.min(MR, m - i0);
            for (int q = 0; q < panels; q++) {
                int jp = j0 + q * NR;
                if (lowerOnly && jp > i0 + rows - 1) {
                    break;
                }
                kernel(aPack, t * MR * KC, bPack, q * KC * NR, kc, tile);
                store(tile, c, ldc, i0, rows, jp, Math.min(NR, j1 - jp), lowerOnly);
            }
        }
    }

    /** dst[off + k·width + r] = op(i0 + r, k0 + k) for r < count, zero for count ≤ r < width. */
    private static void pack(Operand op, int i0, int count, int width, int k0, int kc, float[] dst, int off) {
        float[] d = op.data();
        int ld = op.ld();
        if (op.kMajor()) {
            // Short runs (6 or 16 floats): element loops, or two vectors, beat System.arraycopy's call overhead.
            if (count == NR && width == NR) {
                int vl = S.length();
                for (int k = 0, src = k0 * ld + i0, o = off; k < kc; k++, src += ld, o += NR) {
                    FloatVector.fromArray(S, d, src).intoArray(dst, o);
                    FloatVector.fromArray(S, d, src + vl).intoArray(dst, o + vl);
                }
                return;
            }
            for (int k = 0; k < kc; k++) {
                int o = off + k * width;
                int src = (k0 + k) * ld + i0;
                for (int r = 0; r < count; r++) {
                    dst[o + r] = d[src + r];
                }
                for (int r = count; r < width; r++) {
                    dst[o + r] = 0f;
                }
            }
            return;
        }
        for (int r = 0; r < count; r++) {
            int src = (i0 + r) * ld + k0;
            for (int k = 0; k < kc; k++) {
                dst[off + k * width + r] = d[src + k];
            }
        }
        for (int r = count; r < width; r++) {
            for (int k = 0; k < kc; k++) {
                dst[off + k * width + r] = 0f;
            }
        }
    }

    /** tile[r·NR + j] = Σ_k aPack[aOff + k·MR + r] · bPack[bOff + k·NR + j]: the MR×NR register tile. */
    static void kernel(float[] aPack, int aOff, float[] bPack, int bOff, int kc, float[] tile) {
        int vl = S.length();
        FloatVector c00 = FloatVector.zero(S), c01 = FloatVector.zero(S);
        FloatVector c10 = FloatVector.zero(S), c11 = FloatVector.zero(S);
        FloatVector c20 = FloatVector.zero(S), c21 = FloatVector.zero(S);
        FloatVector c30 = FloatVector.zero(S), c31 = FloatVector.zero(S);
        FloatVector c40 = FloatVector.zero(S), c41 = FloatVector.zero(S);
        FloatVector c50 = FloatVector.zero(S), c51 = FloatVector.zero(S);
        for (int k = 0, ai = aOff, bi = bOff; k < kc; k++, ai += MR, bi += NR) {
            FloatVector x0 = FloatVector.fromArray(S, bPack, bi);
            FloatVector x1 = FloatVector.fromArray(S, bPack, bi + vl);
            FloatVector y = FloatVector.broadcast(S, aPack[ai]);
            c00 = y.fma(x0, c00);
            c01 = y.fma(x1, c01);
            y = FloatVector.broadcast(S, aPack[ai + 1]);
            c10 = y.fma(x0, c10);
            c11 = y.fma(x1, c11);
            y = FloatVector.broadcast(S, aPack[ai + 2]);
            c20 = y.fma(x0, c20);
            c21 = y.fma(x1, c21);
            y = FloatVector.broadcast(S, aPack[ai + 3]);
            c30 = y.fma(x0, c30);
            c31 = y.fma(x1, c31);
            y = FloatVector.broadcast(S, aPack[ai + 4]);
            c40 = y.fma(x0, c40);
            c41 = y.fma(x1, c41);
            y = FloatVector.broadcast(S, aPack[ai + 5]);
            c50 = y.fma(x0, c50);
            c51 = y.fma(x1, c51);
        }
        c00.intoArray(tile, 0);
        c01.intoArray(tile, vl);
        c10.intoArray(tile, NR);
        c11.intoArray(tile, NR + vl);
        c20.intoArray(tile, 2 * NR);
        c21.intoArray(tile, 2 * NR + vl);
        c30.intoArray(tile, 3 * NR);
        c31.intoArray(tile, 3 * NR + vl);
        c40.intoArray(tile, 4 * NR);
        c41.intoArray(tile, 4 * NR + vl);
        c50.intoArray(tile, 5 * NR);
        c51.intoArray(tile, 5 * NR + vl);
    }

    /** Scalar reference of {@link #kernel}. */
    static void kernelReference(float[] aPack, int aOff, float[] bPack, int bOff, int kc, float[] tile) {
        for (int r = 0; r < MR; r++) {
            for (int j = 0; j < NR; j++) {
                float s = 0;
                for (int k = 0; k < kc; k++) {
                    s = Math.fma(aPack[aOff + k * MR + r], bPack[bOff + k * NR + j], s);
                }
                tile[r * NR + j] = s;
            }
        }
    }

    /** c[(i0+r)·ldc + j0 + j] += tile[r·NR + j] for r < rows, j < cols (and j0 + j ≤ i0 + r under lowerOnly). */
    private static void store(float[] tile, float[] c, int ldc, int i0, int rows, int j0, int cols, boolean lowerOnly) {
        boolean full = cols == NR && (!lowerOnly || j0 + NR - 1 <= i0);
        for (int r = 0; r < rows; r++) {
            int o = (i0 + r) * ldc + j0;
            if (full) {
                FloatVector.fromArray(S, c, o).add(FloatVector.fromArray(S, tile, r * NR)).intoArray(c, o);
                FloatVector.fromArray(S, c, o + S.length()).add(FloatVector.fromArray(S, tile, r * NR + S.length()))
                        .intoArray(c, o + S.length());
            } else {
                int end = lowerOnly ? Math.min(cols, i0 + r - j0 + 1) : cols;
                for (int j = 0; j < end; j++) {
                    c[o + j] += tile[r * NR + j];
                }
            }
        }
    }

    /** The definition, for tests: c[i·ldc + j] = Σ_k a[i·n + k]·b[j·n + k] summed in double. */
    static void abTReference(float[] a, int m, float[] b, int p, int n, float[] c, int ldc) {
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < p; j++) {
                double s = 0;
                for (int k = 0; k < n; k++) {
                    s += (double) a[i * n + k] * b[j * n + k];
                }
                c[i * ldc + j] = (float) s;
            }
        }
    }

    /** y[yOff + j] += alpha · x[xOff + j] for j < len. */
    static void axpy(float alpha, float[] x, int xOff, float[] y, int yOff, int len) {
        FloatVector av = FloatVector.broadcast(S, alpha);
        int j = 0;
        int upper = S.loopBound(len);
        for (; j < upper; j += S.length()) {
            FloatVector.fromArray(S, x, xOff + j).fma(av, FloatVector.fromArray(S, y, yOff + j)).intoArray(y, yOff + j);
        }
        for (; j < len; j++) {
            y[yOff + j] += alpha * x[xOff + j];
        }
    }
}
