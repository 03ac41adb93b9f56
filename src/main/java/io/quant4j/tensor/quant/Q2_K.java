package io.quant4j.tensor.quant;

import io.quant4j.tensor.GgmlType;

import java.lang.foreign.MemorySegment;
import java.util.Arrays;

import static io.quant4j.tensor.quant.Bits.nearestInt;

/**
 * Q2_K: super-blocks of 256 as {@code u8 scales[16]; u8 qs[64]; half d; half dmin}. Sixteen sub-blocks of 16,
 * each with a 4-bit scale (low nibble) and 4-bit min (high nibble): x ≈ d·sc·q − dmin·m, q ∈ [0, 3].
 * qs byte l of each 128-element half holds elements l, l+32, l+64, l+96 in bit pairs 0, 2, 4, 6.
 */
public final class Q2_K implements RowCodec {
    public static final int QK_K = 256;
    public static final int BLOCK_BYTES = 84;
    static final int OFF_SCALES = 0;
    static final int OFF_QS = 16;
    static final int OFF_D = 80;
    static final int OFF_DMIN = 82;

    public static final Q2_K INSTANCE = new Q2_K();

    private Q2_K() {
    }

    @Override
    public GgmlType type() {
        return GgmlType.Q2_K;
    }

    @Override
    public void quantizeRow(float[] src, int srcOff, int n, MemorySegment dst, long dstOff, float[] importance) {
        int nb = Bits.blocks(GgmlType.Q2_K, n);
        Bits.checkImportance(importance, n);
        byte[] y = new byte[BLOCK_BYTES];
        Scratch s = new Scratch();
        for (int i = 0; i < nb; i++) {
            if (importance == null) {
                quantizeBlockRef(src, srcOff + i * QK_K, y, s);
            } else {
                quantizeBlockImatrix(src, srcOff + i * QK_K, importance, i * QK_K, y, s);
            }
            Bits.store(y, dst, dstOff + (long) i * BLOCK_BYTES);
        }
    }

    private static final class Scratch {
        final byte[] L = new byte[QK_K];
        final byte[] Laux = new byte[16];
        final float[] weights = new float[16];
        final float[] mins = new float[QK_K / 16];
        final float[] scales = new float[QK_K / 16];
        final float[] sw = new float[QK_K / 16];
        final byte[] Ls = new byte[QK_K / 16];
        final byte[] Lm = new byte[QK_K / 16];
        final ScaleSearch.Min min = new ScaleSearch.Min();
    }

    /** quantize_row_q2_K_ref: per sub-block make_qkx2_quants with weights |x|, then 4-bit scales/mins. */
    private static void quantizeBlockRef(float[] x, int xo, byte[] y, Scratch s) {
        final float q4scale = 15.f;
        float maxScale = 0;
        float maxMin = 0;
        for (int j = 0; j < QK_K / 16; ++j) {
            for (int l = 0; l < 16; ++l) {
                s.weights[l] = Math.abs(x[xo + 16 * j + l]);
            }
            s.scales[j] = ScaleSearch.makeQkx2Quants(16, 3, x, xo + 16 * j, s.weights, 0, s.L, 16 * j, s.min, s.Laux,
                    -0.5f, 0.1f, 15, true);
            s.mins[j] = s.min.value;
            if (s.scales[j] > maxScale) {
                maxScale = s.scales[j];
            }
            if (s.mins[j] > maxMin) {
                maxMin = s.mins[j];
            }
        }
        if (maxScale > 0) {
            float iscale = q4scale / maxScale;
            for (int j = 0; j < QK_K / 16; ++j) {
                y[OFF_SCALES + j] = (byte) nearestInt(iscale * s.scales[j]);
            }
            Bits.putF16(y, OFF_D, maxScale / q4scale);
        } else {
            for (int j = 0; j < QK_K / 16; ++j) {
                y[OFF_SCALES + j] = 0;
            }
            Bits.putF16(y, OFF_D, 0.f);
        }
        if (maxMin > 0) {
            float iscale = q4scale / maxMin;
            for (int j = 0; j < QK_K / 16; ++j) {
                y[OFF_SCALES + j] |= (byte) (nearestInt(iscale * s.mins[j]) << 4);
            }
            Bits.putF16(y, OFF_DMIN, maxMin / q4scale);
        } else {
            Bits.putF16(y, OFF_DMIN, 0.f);
        }
        requantizeAndPack(x, xo, y, s.L);
    }

    /** quantize_row_q2_K_impl: imatrix-weighted make_qkx3_quants, scales and mins via make_qp_quants. */
    private static void quantizeBlockImatrix(float[] x, int xo, float[] qw, int qo, byte[] y, Scratch s) {
        Arrays.fill(s.sw, 0);
        float sumx2 = 0;
        for (int j = 0; j < QK_K; ++j) {
            sumx2 += x[xo + j] * x[xo + j];
        }
        float sigma2 = sumx2 / QK_K;
        for (int j = 0; j < QK_K / 16; ++j) {
            for (int l = 0; l < 16; ++l) {
                float xl = x[xo + 16 * j + l];
                s.weights[l] = qw[qo + 16 * j + l] * Bits.sqrtf(sigma2 + xl * xl);
            }
            for (int l = 0; l < QK_K / 16; ++l) {
                s.sw[j] += s.weights[l];
            }
            s.scales[j] = ScaleSearch.makeQkx3Quants(16, 3, x, xo + 16 * j, s.weights, 0, s.L, 16 * j, s.min, s.Laux,
                    -0.9f, 0.05f, 36, false);
            s.mins[j] = s.min.value;
        }
        float dm = ScaleSearch.makeQpQuants(QK_K / 16, 15, s.scales, s.Ls, s.sw);
        float mm = ScaleSearch.makeQpQuants(QK_K / 16, 15, s.mins, s.Lm, s.sw);
        Bits.putF16(y, OFF_D, dm);
        Bits.putF16(y, OFF_DMIN, mm);
        for (int j = 0; j < QK_K / 16; ++j) {
            y[OFF_SCALES + j] = (byte) ((s.Ls[j] & 0xFF) | (s.Lm[j] & 0xFF) << 4);
        }
        requantizeAndPack(x, xo, y, s.L);
    }

    /** Re-derives every level against the fp16-rounded scales actually stored, then packs the bit pairs. */
    private static void requantizeAndPack(float[] x, int xo, byte[] y, byte[] L) {
        float dAll = Bits.getF16(y, OFF_D);
        float mAll = Bits.getF16(y, OFF_DMIN);
        for (int j = 0; j < QK_K / 16; ++j) {
            int sc = y[OFF_SCALES + j] & 0xFF;
            float d = dAll * (sc & 0xF);
            if (d == 0) {
                continue;
            }
            float dm = mAll * (sc >>> 4);
            for (int ii = 0; ii < 16; ++ii) {
                int l = nearestInt((x[xo + 16 * j + ii] + dm) / d);
                L[16 * j + ii] = (byte) Math.max(0, Math.min(3, l));
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
        int nb = Bits.blocks(GgmlType.Q2_K, n);
        byte[] b = new byte[BLOCK_BYTES];
        for (int i = 0; i < nb; i++) {
            Bits.load(src, srcOff + (long) i * BLOCK_BYTES, b);
            dequantizeBlock(b, dst, dstOff + i * QK_K);
        }
    }

    static void dequantizeBlock(byte[] b, float[] y, int yo) {
        float d = Bits.getF16(b, OFF_D);
        float min = Bits.getF16(b, OFF_DMIN);
        int q = OFF_QS;
        int is = 0;
        for (int n = 0; n < QK_K; n += 128) {
            int shift = 0;
            for (int j = 0; j < 4; ++j) {
                int sc = b[OFF_SCALES + is++] & 0xFF;
                float dl = d * (sc & 0xF);
                float ml = min * (sc >>> 4);
                for (int l = 0; l < 16; ++l) {
                    y[yo++] = dl * ((b[q + l] >>> shift) & 3) - ml;
                }
                sc = b[OFF_SCALES + is++] & 0xFF;
                dl = d * (sc & 0xF);
                ml = min * (sc >>> 4);
                for (int l = 0; l < 16; ++l) {
                    y[yo++] = dl * ((b[q + l + 16] >>> shift) & 3) - ml;
                }
                shift += 2;
            }
            q += 32;
        }
    }
}
