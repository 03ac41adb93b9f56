package io.quant4j.quantize.gptq;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * GPTQ's deferred update after a lazy batch, W[r, i2:] −= Σ_i Err[r, i] · U[i1+i, i2:], for a tile of rows.
 *
 * <p>Column by column (one axpy per batch column and row, {@link #applyReference}) the row tile's whole tail of W was
 * read and written once per column of the batch — 128 passes over up to 16 × 5632 floats for ffn_down. Here a
 * register tile of 4 rows × 16 columns stays in registers over all the batch's columns, so W is read and written once
 * and each loaded U vector serves 4 rows. Each element still sees the same fused multiply-adds in the same order
 * (and the columns past the vector loop bound the same unfused scalar steps), so the result is bit for bit the
 * reference's.
 */
final class LazyBatchUpdate {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;

    private LazyBatchUpdate() {
    }

    /**
     * Rows [r0, r0+rows) of w (row-major, {@code cols} wide), columns [i2, cols); err[r·errStride + i] is row r0+r's
     * scaled error at batch column i < count; u is row-major cols×cols, batch rows start at i1.
     */
    static void apply(float[] w, int cols, int r0, int rows, float[] err, int errStride, int count, float[] u, int i1, int i2) {
        int len = cols - i2;
        int vl = S.length();
        int upper = i2 + S.loopBound(len);
        // Column chunks outside, row groups inside: a chunk of U (count × 16 floats) is loaded from memory once and
        // then serves every row of the tile from L1.
        int full = rows & ~3;
        int j = i2;
        for (; j + 2 * vl <= upper; j += 2 * vl) {
            for (int r = 0; r < full; r += 4) {
                tile4x2(w, cols, (r0 + r) * cols, j, err, r * errStride, errStride, count, u, i1);
            }
        }
        for (; j < upper; j += vl) {
            for (int r = 0; r < full; r++) {
                column(w, (r0 + r) * cols + j, err, r * errStride, count, u, i1 * cols + j, cols);
            }
        }
        for (int r = full; r < rows; r++) {
            for (int jj = i2; jj < upper; jj += vl) {
                column(w, (r0 + r) * cols + jj, err, r * errStride, count, u, i1 * cols + jj, cols);
            }
        }
        // Past the vector loop bound: the reference's scalar steps.
        for (int rr = 0; rr < rows; rr++) {
            int wRow = (r0 + rr) * cols;
            for (int i = 0; i < count; i++) {
                float alpha = -err[rr * errStride + i];
                int uRow = (i1 + i) * cols;
                for (int jt = upper; jt < cols; jt++) {
                    w[wRow + jt] += alpha * u[uRow + jt];
                }
            }
        }
    }

    private static void tile4x2(float[] w, int cols, int w0, int j, float[] err, int e0, int es, int count, float[] u, int i1) {
        int vl = S.length();
        int o0 = w0 + j;
        int o1 = o0 + cols;
        int o2 = o1 + cols;
        int o3 = o2 + cols;
        FloatVector a00 = FloatVector.fromArray(S, w, o0), a01 = FloatVector.fromArray(S, w, o0 + vl);
        FloatVector a10 = FloatVector.fromArray(S, w, o1), a11 = FloatVector.fromArray(S, w, o1 + vl);
        FloatVector a20 = FloatVector.fromArray(S, w, o2), a21 = FloatVector.fromArray(S, w, o2 + vl);
        FloatVector a30 = FloatVector.fromArray(S, w, o3), a31 = FloatVector.fromArray(S, w, o3 + vl);
        int ui = i1 * cols + j;
        for (int i = 0; i < count; i++, ui += cols) {
            FloatVector x0 = FloatVector.fromArray(S, u, ui);
            FloatVector x1 = FloatVector.fromArray(S, u, ui + vl);
            FloatVector e = FloatVector.broadcast(S, -err[e0 + i]);
            a00 = x0.fma(e, a00);
            a01 = x1.fma(e, a01);
            e = FloatVector.broadcast(S, -err[e0 + es + i]);
            a10 = x0.fma(e, a10);
            a11 = x1.fma(e, a11);
            e = FloatVector.broadcast(S, -err[e0 + 2 * es + i]);
            a20 = x0.fma(e, a20);
            a21 = x1.fma(e, a21);
            e = FloatVector.broadcast(S, -err[e0 + 3 * es + i]);
            a30 = x0.fma(e, a30);
            a31 = x1.fma(e, a31);
        }
        a00.intoArray(w, o0);
        a01.intoArray(w, o0 + vl);
        a10.intoArray(w, o1);
        a11.intoArray(w, o1 + vl);
        a20.intoArray(w, o2);
        a21.intoArray(w, o2 + vl);
        a30.intoArray(w, o3);
        a31.intoArray(w, o3 + vl);
    }

    /** One vector of one row over all the batch's columns. */
    private static void column(float[] w, int wOff, float[] err, int eOff, int count, float[] u, int uOff, int cols) {
        FloatVector a = FloatVector.fromArray(S, w, wOff);
        for (int i = 0; i < count; i++, uOff += cols) {
            a = FloatVector.fromArray(S, u, uOff).fma(FloatVector.broadcast(S, -err[eOff + i]), a);
        }
        a.intoArray(w, wOff);
    }

    /** The reference: one {@link Gemm#axpy} per batch column and row, as gptq.py's {@code W[:, i2:] -= Err1.matmul(Hinv[i1:i2, i2:])} element by element. */
    static void applyReference(float[] w, int cols, int r0, int rows, float[] err, int errStride, int count, float[] u, int i1, int i2) {
        for (int i = 0; i < count; i++) {
            int uRow = (i1 + i) * cols + i2;
            for (int r = 0; r < rows; r++) {
                Gemm.axpy(-err[r * errStride + i], u, uRow, w, (r0 + r) * cols + i2, cols - i2);
            }
        }
    }
}
