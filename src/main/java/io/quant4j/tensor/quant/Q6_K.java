package io.quant4j.tensor.quant;

import io.quant4j.tensor.GgmlType;

import java.lang.foreign.MemorySegment;
import java.util.Arrays;

import static io.quant4j.tensor.quant.Bits.nearestInt;

/**
 * Q6_K: super-blocks of 256 as {@code u8 ql[128]; u8 qh[64]; i8 scales[16]; half d}. Sixteen sub-blocks of 16
 * with int8 scales: x ≈ d·sc·(q − 32), q ∈ [0, 63]. Per 128 elements (64 ql bytes, 32 qh bytes):
 * ql[l] = lo(q_l) | lo(q_{l+64})<<4, ql[l+32] = lo(q_{l+32}) | lo(q_{l+96})<<4,
 * qh[l] = hi(q_l) | hi(q_{l+32})<<2 | hi(q_{l+64})<<4 | hi(q_{l+96})<<6.
 */
public final class Q6_K implements RowCodec {
    public static final int QK_K = 256;
    public static final int BLOCK_BYTES = 210;
    static final int OFF_QL = 0;
    static final int OFF_QH = 128;
    static final int OFF_SCALES = 192;
    static final int OFF_D = 208;

    public static final Q6_K INSTANCE = new Q6_K();

    private Q6_K() {
    }

    @Override
    public GgmlType type() {
        return GgmlType.Q6_K;
    }

    /**
     * quantize_row_q6_K_ref, or with an imatrix quantize_row_q6_K_impl, which feeds the importance straight
     * to make_qx_quants as weights (no σ² term, unlike the other k-quants).
     */
    @Override
    public void quantizeRow(float[] src, int srcOff, int n, MemorySegment dst, long dstOff, float[] importance) {
        quantizeRow(src, srcOff, n, dst, dstOff, importance, LOCAL.get());
    }

    /** The scalar reference only (no {@link KQuantSearchKernels} lanes), for the differential tests. */
    static void quantizeRowScalar(float[] src, int srcOff, int n, MemorySegment dst, long dstOff, float[] importance) {
        quantizeRow(src, srcOff, n, dst, dstOff, importance, new Scratch(false));
    }

    /** Per-thread buffers; {@code vector} false keeps to the scalar reference. */
    private static final class Scratch {
        final boolean vector;
        final byte[] L = new byte[QK_K];
        final float[] scales = new float[QK_K / 16];
        final float[] xt = new float[QK_K / 2];
        final float[] wt = new float[QK_K / 2];
        final int[] lt = new int[QK_K / 2];

        Scratch(boolean vector) {
            this.vector = vector;
        }
    }

    private static final ThreadLocal<Scratch> LOCAL = ThreadLocal.withInitial(() -> new Scratch(true));

    private static void quantizeRow(float[] src, int srcOff, int n, MemorySegment dst, long dstOff, float[] importance,
                                    Scratch s) {
        int nb = Bits.blocks(GgmlType.Q6_K, n);
        Bits.checkImportance(importance, n);
        byte[] y = new byte[BLOCK_BYTES];
        byte[] L = s.L;
        float[] scales = s.scales;
        for (int i = 0; i < nb; i++) {
            int xo = srcOff + i * QK_K;
            Arrays.fill(y, (byte) 0);
            float maxScale = 0;
            float maxAbsScale = 0;
            boolean lanes = s.vector && KQuantSearchKernels.eligible(src, xo, QK_K);
            if (lanes) {
                // sub-blocks 8g..8g+7 as the eight lanes of group g
                for (int g = 0; g < 2; g++) {
                    KQuantSearchKernels.transpose(src, xo + 128 * g, 16, 16, s.xt);
                    float[] wt = null;
                    if (importance != null) {
                        KQuantSearchKernels.transpose(importance, i * QK_K + 128 * g, 16, 16, s.wt);
                        wt = s.wt;
                    }
                    KQuantSearchKernels.qxLanes(s.xt, wt, 16, 32, scales, 8 * g, s.lt);
                    for (int j = 0; j < 8; j++) {
                        for (int l = 0; l < 16; l++) {
                            L[128 * g + 16 * j + l] = (byte) s.lt[8 * l + j];
                        }
                    }
                }
            }
            for (int ib = 0; ib < QK_K / 16; ++ib) {
                float scale = lanes ? scales[ib] : ScaleSearch.makeQxQuants(16, 32, src, xo + 16 * ib, L, 16 * ib, 1,
                        importance, i * QK_K + 16 * ib);
                scales[ib] = scale;
                float absScale = Math.abs(scale);
                if (absScale > maxAbsScale) {
                    maxAbsScale = absScale;
                    maxScale = scale;
                }
            }
            if (maxAbsScale < Bits.GROUP_MAX_EPS) {
                // All-zero super-block: every byte 0, d = +0.
                Bits.store(y, dst, dstOff + (long) i * BLOCK_BYTES);
                continue;
            }
            float iscale = -128.f / maxScale;
            Bits.putF16(y, OFF_D, 1 / iscale);
            for (int ib = 0; ib < QK_K / 16; ++ib) {
                y[OFF_SCALES + ib] = (byte) Math.min(127, nearestInt(iscale * scales[ib]));
            }
            float dAll = Bits.getF16(y, OFF_D);
            for (int j = 0; j < QK_K / 16; ++j) {
                float d = dAll * y[OFF_SCALES + j];
                if (d == 0) {
                    continue;
                }
                if (lanes) {
                    KQuantSearchKernels.levelsSymmetric(src, xo + 16 * j, 16, d, 32, L, 16 * j);
                    continue;
                }
                for (int ii = 0; ii < 16; ++ii) {
                    int l = nearestInt(src[xo + 16 * j + ii] / d);
                    L[16 * j + ii] = (byte) (Math.max(-32, Math.min(31, l)) + 32);
                }
            }
            int ql = OFF_QL;
            int qh = OFF_QH;
            for (int j = 0; j < QK_K; j += 128) {
                for (int l = 0; l < 32; ++l) {
                    int q1 = L[j + l] & 0xF;
                    int q2 = L[j + l + 32] & 0xF;
                    int q3 = L[j + l + 64] & 0xF;
                    int q4 = L[j + l + 96] & 0xF;
                    y[ql + l] = (byte) (q1 | q3 << 4);
                    y[ql + l + 32] = (byte) (q2 | q4 << 4);
                    y[qh + l] = (byte) ((L[j + l] >> 4) | (L[j + l + 32] >> 4) << 2
                            | (L[j + l + 64] >> 4) << 4 | (L[j + l + 96] >> 4) << 6);
                }
                ql += 64;
                qh += 32;
            }
            Bits.store(y, dst, dstOff + (long) i * BLOCK_BYTES);
        }
    }

    @Override
    public void dequantizeRow(MemorySegment src, long srcOff, float[] dst, int dstOff, int n) {
        int nb = Bits.blocks(GgmlType.Q6_K, n);
        byte[] b = new byte[BLOCK_BYTES];
        for (int i = 0; i < nb; i++) {
            Bits.load(src, srcOff + (long) i * BLOCK_BYTES, b);
            dequantizeBlock(b, dst, dstOff + i * QK_K);
        }
    }

    static void dequantizeBlock(byte[] b, float[] y, int yo) {
        float d = Bits.getF16(b, OFF_D);
        int ql = OFF_QL;
        int qh = OFF_QH;
        int sc = OFF_SCALES;
        for (int n = 0; n < QK_K; n += 128) {
            for (int l = 0; l < 32; ++l) {
                int is = l / 16;
                int h = b[qh + l] & 0xFF;
                int q1 = ((b[ql + l] & 0xF) | ((h >>> 0) & 3) << 4) - 32;
                int q2 = ((b[ql + l + 32] & 0xF) | ((h >>> 2) & 3) << 4) - 32;
                int q3 = (((b[ql + l] & 0xFF) >>> 4) | ((h >>> 4) & 3) << 4) - 32;
                int q4 = (((b[ql + l + 32] & 0xFF) >>> 4) | ((h >>> 6) & 3) << 4) - 32;
                y[yo + l] = d * b[sc + is] * q1;
                y[yo + l + 32] = d * b[sc + is + 2] * q2;
                y[yo + l + 64] = d * b[sc + is + 4] * q3;
                y[yo + l + 96] = d * b[sc + is + 6] * q4;
            }
            yo += 128;
            ql += 64;
            qh += 32;
            sc += 8;
        }
    }
}
