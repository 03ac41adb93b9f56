package io.quant4j.tensor.quant;

import io.quant4j.tensor.GgmlType;

import java.lang.foreign.MemorySegment;
import java.util.Arrays;

import static io.quant4j.tensor.quant.Bits.nearestInt;

/**
 * Q3_K: super-blocks of 256 as {@code u8 hmask[32]; u8 qs[64]; u8 scales[12]; half d}. Sixteen sub-blocks of
 * 16 with signed 6-bit scales (stored +32): x ≈ d·(sc − 32)·(q − 4), q ∈ [0, 7]. The low two bits of q are
 * packed like Q2_K; bit 2 of element k·32 + m is bit k of hmask[m]. Scale j keeps its low nibble in
 * scales[j] (j < 8) or the high nibble of scales[j − 8], its top two bits in scales[8 + j%4] at 2·(j/4).
 */
public final class Q3_K implements RowCodec {
    public static final int QK_K = 256;
    public static final int BLOCK_BYTES = 110;
    static final int OFF_HMASK = 0;
    static final int OFF_QS = 32;
    static final int OFF_SCALES = 96;
    static final int OFF_D = 108;

    public static final Q3_K INSTANCE = new Q3_K();

    private Q3_K() {
    }

    @Override
    public GgmlType type() {
        return GgmlType.Q3_K;
    }

    @Override
    public void quantizeRow(float[] src, int srcOff, int n, MemorySegment dst, long dstOff, float[] importance) {
        int nb = Bits.blocks(GgmlType.Q3_K, n);
        Bits.checkImportance(importance, n);
        byte[] y = new byte[BLOCK_BYTES];
        byte[] L = new byte[QK_K];
        float[] scales = new float[QK_K / 16];
        for (int i = 0; i < nb; i++) {
            Arrays.fill(y, (byte) 0);
            if (importance == null) {
                quantizeScalesRef(src, srcOff + i * QK_K, y, L, scales);
            } else {
                quantizeScalesImatrix(src, srcOff + i * QK_K, importance, i * QK_K, y, L, scales);
            }
            requantizeAndPack(src, srcOff + i * QK_K, y, L);
            Bits.store(y, dst, dstOff + (long) i * BLOCK_BYTES);
        }
    }

    /** quantize_row_q3_K_ref, scale part: make_q3_quants per sub-block, then 6-bit scales from −32/max. */
    private static void quantizeScalesRef(float[] x, int xo, byte[] y, byte[] L, float[] scales) {
        float maxScale = 0;
        float amax = 0;
        for (int j = 0; j < QK_K / 16; ++j) {
            scales[j] = ScaleSearch.makeQ3Quants(16, 4, x, xo + 16 * j, L, 16 * j, true);
            float scale = Math.abs(scales[j]);
            if (scale > amax) {
                amax = scale;
                maxScale = scales[j];
            }
        }
        if (maxScale != 0) {
            float iscale = -32.f / maxScale;
            for (int j = 0; j < QK_K / 16; ++j) {
                byte l = (byte) nearestInt(iscale * scales[j]);
                putScale(y, j, Math.max(-32, Math.min(31, l)) + 32);
            }
            Bits.putF16(y, OFF_D, 1 / iscale);
        } else {
            Bits.putF16(y, OFF_D, 0.f);
        }
    }

    /** quantize_row_q3_K_impl, scale part: imatrix-weighted make_qx_quants for levels and for the scales. */
    private static void quantizeScalesImatrix(float[] x, int xo, float[] qw, int qo, byte[] y, byte[] L, float[] scales) {
        float[] weight = new float[16];
        float[] sw = new float[QK_K / 16];
        byte[] Ls = new byte[QK_K / 16];
        float sumx2 = 0;
        for (int j = 0; j < QK_K; ++j) {
            sumx2 += x[xo + j] * x[xo + j];
        }
        float sigma2 = 2 * sumx2 / QK_K;
        for (int j = 0; j < QK_K / 16; ++j) {
            for (int l = 0; l < 16; ++l) {
                float xl = x[xo + 16 * j + l];
                weight[l] = qw[qo + 16 * j + l] * Bits.sqrtf(sigma2 + xl * xl);
            }
            float sumw = 0;
            for (int l = 0; l < 16; ++l) {
                sumw += weight[l];
            }
            sw[j] = sumw;
            scales[j] = ScaleSearch.makeQxQuants(16, 4, x, xo + 16 * j, L, 16 * j, 1, weight, 0);
        }
        float dBlock = ScaleSearch.makeQxQuants(QK_K / 16, 32, scales, 0, Ls, 0, 1, sw, 0);
        for (int j = 0; j < QK_K / 16; ++j) {
            putScale(y, j, Ls[j]);
        }
        Bits.putF16(y, OFF_D, dBlock);
    }

    /** Stores 6-bit scale {@code l} (0..63) of sub-block j; the scale bytes must start zeroed. */
    private static void putScale(byte[] y, int j, int l) {
        if (j < 8) {
            y[OFF_SCALES + j] = (byte) (l & 0xF);
        } else {
            y[OFF_SCALES + j - 8] |= (byte) ((l & 0xF) << 4);
        }
        l >>= 4;
        y[OFF_SCALES + j % 4 + 8] |= (byte) (l << (2 * (j / 4)));
    }

    /** Signed scale of sub-block j (−32..31). */
    static int scale(byte[] b, int j) {
        int sc = j < 8 ? b[OFF_SCALES + j] & 0xF : (b[OFF_SCALES + j - 8] & 0xFF) >>> 4;
        return (sc | ((b[OFF_SCALES + 8 + j % 4] >>> (2 * (j / 4))) & 3) << 4) - 32;
    }

    /** Levels against the stored fp16 scale, then hmask (bit 2) and the bit pairs. */
    private static void requantizeAndPack(float[] x, int xo, byte[] y, byte[] L) {
        float dAll = Bits.getF16(y, OFF_D);
        for (int j = 0; j < QK_K / 16; ++j) {
            float d = dAll * scale(y, j);
            if (d == 0) {
                continue;
            }
            for (int ii = 0; ii < 16; ++ii) {
                int l = nearestInt(x[xo + 16 * j + ii] / d);
                L[16 * j + ii] = (byte) (Math.max(-4, Math.min(3, l)) + 4);
            }
        }
        int m = 0;
        int hm = 1;
        for (int j = 0; j < QK_K; ++j) {
            if (L[j] > 3) {
                y[OFF_HMASK + m] |= (byte) hm;
                L[j] -= 4;
            }
            if (++m == QK_K / 8) {
                m = 0;
                hm <<= 1;
            }
        }
        for (int j = 0; j < QK_K; j += 128) {
            for (int l = 0; l < 32; ++l) {
                y[OFF_QS + j / 4 + l] = (byte) (L[j + l] | L[j + l + 32] << 2 | L[j + l + 64] << 4 | L[j + l + 96] << 6);
            }
        }
    }

    @Override
    public void dequantizeRow(MemorySegment src, long srcOff, float[] dst, int dstOff, int n) {
        int nb = Bits.blocks(GgmlType.Q3_K, n);
        byte[] b = new byte[BLOCK_BYTES];
        for (int i = 0; i < nb; i++) {
            Bits.load(src, srcOff + (long) i * BLOCK_BYTES, b);
            dequantizeBlock(b, dst, dstOff + i * QK_K);
        }
    }

    static void dequantizeBlock(byte[] b, float[] y, int yo) {
        float dAll = Bits.getF16(b, OFF_D);
        int q = OFF_QS;
        int is = 0;
        int m = 1;
        for (int n = 0; n < QK_K; n += 128) {
            int shift = 0;
            for (int j = 0; j < 4; ++j) {
                float dl = dAll * scale(b, is++);
                for (int l = 0; l < 16; ++l) {
                    y[yo++] = dl * (((b[q + l] >>> shift) & 3) - ((b[OFF_HMASK + l] & m) != 0 ? 0 : 4));
                }
                dl = dAll * scale(b, is++);
                for (int l = 0; l < 16; ++l) {
                    y[yo++] = dl * (((b[q + l + 16] >>> shift) & 3) - ((b[OFF_HMASK + l + 16] & m) != 0 ? 0 : 4));
                }
                shift += 2;
                m <<= 1;
            }
            q += 32;
        }
    }
}
