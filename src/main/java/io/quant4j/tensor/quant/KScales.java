package io.quant4j.tensor.quant;

/**
 * The 12-byte scale/min packing shared by Q4_K and Q5_K: eight 6-bit scales and eight 6-bit mins.
 * j < 4: scale in scales[j] bits 0-5, min in scales[j+4] bits 0-5. j ≥ 4: low nibbles in scales[j+4]
 * (scale low, min high), top two bits in bits 6-7 of scales[j−4] (scale) and scales[j] (min).
 */
final class KScales {
    private KScales() {
    }

    /** Writes pair j; must be called for j = 0..7 in order on zeroed bytes (j ≥ 4 ORs into earlier ones). */
    static void put(byte[] y, int off, int j, int ls, int lm) {
        if (j < 4) {
            y[off + j] = (byte) ls;
            y[off + j + 4] = (byte) lm;
        } else {
            y[off + j + 4] = (byte) ((ls & 0xF) | (lm & 0xF) << 4);
            y[off + j - 4] |= (byte) ((ls >>> 4) << 6);
            y[off + j] |= (byte) ((lm >>> 4) << 6);
        }
    }

    /** get_scale_min_k4: the scale of sub-block j. */
    static int scale(byte[] q, int off, int j) {
        if (j < 4) {
            return q[off + j] & 63;
        }
        return (q[off + j + 4] & 0xF) | ((q[off + j - 4] & 0xFF) >>> 6) << 4;
    }

    /** get_scale_min_k4: the min of sub-block j. */
    static int min(byte[] q, int off, int j) {
        if (j < 4) {
            return q[off + j + 4] & 63;
        }
        return ((q[off + j + 4] & 0xFF) >>> 4) | ((q[off + j] & 0xFF) >>> 6) << 4;
    }

    /** Scratch for one 256-element super-block of Q4_K/Q5_K, reusable across blocks and rows. */
    static final class Scratch {
        private static final ThreadLocal<Scratch> LOCAL = ThreadLocal.withInitial(() -> new Scratch(true));

        /** Whether blocks may take the {@link KQuantSearchKernels} lanes (false: the scalar reference only). */
        final boolean vector;

        /** Whether the 256 values at x[xo..] take the lanes. */
        boolean lanes(float[] x, int xo) {
            return vector && KQuantSearchKernels.eligible(x, xo, 256);
        }
        final byte[] L = new byte[256];
        final float[] xt = new float[256];
        final float[] wt = new float[256];
        final float[] lf = new float[256];
        final int[] lt = new int[256];
        final float[] st = new float[KQuantSearchKernels.STATE_FLOATS];
        final byte[] Laux = new byte[32];
        final byte[] Ls = new byte[8];
        final byte[] Lm = new byte[8];
        final float[] weights = new float[32];
        final float[] sw = new float[8];
        final float[] mins = new float[8];
        final float[] scales = new float[8];
        final ScaleSearch.Min min = new ScaleSearch.Min();

        Scratch(boolean vector) {
            this.vector = vector;
        }

        /** This thread's scratch with the vector lanes enabled. */
        static Scratch local() {
            return LOCAL.get();
        }
    }

    /**
     * The scale/min part of quantize_row_q4_K_ref / q5_K_ref: per 32-element sub-block make_qkx2_quants with
     * weights av_x + |x| (av_x = rms of the sub-block), then 6-bit scales and mins against the maxima.
     */
    static void quantizeScalesRef(float[] x, int xo, int nmax, float rmin, float rdelta, int nstep,
                                  byte[] y, int offD, int offDmin, int offScales, Scratch s) {
        quantizeScalesRef(x, xo, nmax, rmin, rdelta, nstep, y, offD, offDmin, offScales, s, false);
    }

    /** {@link #quantizeScalesRef}, with {@code lanes} the searches as {@link KQuantSearchKernels#qkx2Lanes}. */
    static void quantizeScalesRef(float[] x, int xo, int nmax, float rmin, float rdelta, int nstep,
                                  byte[] y, int offD, int offDmin, int offScales, Scratch s, boolean lanes) {
        if (lanes) {
            searchLanes(x, xo, nmax, rmin, rdelta, nstep, s);
        }
        float maxScale = 0;
        float maxMin = 0;
        for (int j = 0; j < 8; ++j) {
            if (!lanes) {
                float sumX2 = 0;
                for (int l = 0; l < 32; ++l) {
                    sumX2 += x[xo + 32 * j + l] * x[xo + 32 * j + l];
                }
                float avX = Bits.sqrtf(sumX2 / 32);
                for (int l = 0; l < 32; ++l) {
                    s.weights[l] = avX + Math.abs(x[xo + 32 * j + l]);
                }
                s.scales[j] = ScaleSearch.makeQkx2Quants(32, nmax, x, xo + 32 * j, s.weights, 0, s.L, 32 * j, s.min, s.Laux,
                        rmin, rdelta, nstep, false);
                s.mins[j] = s.min.value;
            }
            if (s.scales[j] > maxScale) {
                maxScale = s.scales[j];
            }
            if (s.mins[j] > maxMin) {
                maxMin = s.mins[j];
            }
        }
        float invScale = maxScale > 0 ? 63.f / maxScale : 0.f;
        float invMin = maxMin > 0 ? 63.f / maxMin : 0.f;
        for (int j = 0; j < 8; ++j) {
            // uint8_t ls = nearest_int(...): wraps to a byte before the clamp, as in C.
            int ls = Math.min(63, Bits.nearestInt(invScale * s.scales[j]) & 0xFF);
            int lm = Math.min(63, Bits.nearestInt(invMin * s.mins[j]) & 0xFF);
            put(y, offScales, j, ls, lm);
        }
        Bits.putF16(y, offD, maxScale / 63.f);
        Bits.putF16(y, offDmin, maxMin / 63.f);
    }

    /**
     * The eight make_qkx2_quants of {@link #quantizeScalesRef} as lanes: weights av_x + |x| per sub-block
     * (Σx² accumulated element by element in each lane), then {@link KQuantSearchKernels#qkx2Lanes}; fills
     * s.scales, s.mins and s.L exactly as the eight scalar calls do.
     */
    private static void searchLanes(float[] x, int xo, int nmax, float rmin, float rdelta, int nstep, Scratch s) {
        KQuantSearchKernels.transpose(x, xo, 32, 32, s.xt);
        KQuantSearchKernels.avxWeights(s.xt, 32, s.wt);
        KQuantSearchKernels.qkx2Lanes(s.xt, s.wt, 32, nmax, rmin, rdelta, nstep, false, s.scales, s.mins, 0, s.lt, s.lf, s.st);
        int[] lt = s.lt;
        for (int j = 0; j < 8; j++) {
            for (int i = 0; i < 32; i++) {
                s.L[32 * j + i] = (byte) lt[8 * i + j];
            }
        }
    }

    /**
     * The scale/min part of quantize_row_q4_K_impl / q5_K_impl: weights qw·sqrt(σ² + x²) with σ² = 2·Σx²/256
     * (or av_x + |x| without qw), make_qkx3_quants per sub-block, make_qp_quants for scales and mins.
     */
    static void quantizeScalesImatrix(float[] x, int xo, float[] qw, int qo, int nmax, boolean clamp63,
                                      byte[] y, int offD, int offDmin, int offScales, Scratch s) {
        float sumX2 = 0;
        for (int l = 0; l < 256; ++l) {
            sumX2 += x[xo + l] * x[xo + l];
        }
        float sigma2 = 2 * sumX2 / 256;
        float avX = Bits.sqrtf(sigma2);
        for (int j = 0; j < 8; ++j) {
            if (qw != null) {
                for (int l = 0; l < 32; ++l) {
                    float xl = x[xo + 32 * j + l];
                    s.weights[l] = qw[qo + 32 * j + l] * Bits.sqrtf(sigma2 + xl * xl);
                }
            } else {
                for (int l = 0; l < 32; ++l) {
                    s.weights[l] = avX + Math.abs(x[xo + 32 * j + l]);
                }
            }
            float sumw = 0;
            for (int l = 0; l < 32; ++l) {
                sumw += s.weights[l];
            }
            s.sw[j] = sumw;
            s.scales[j] = ScaleSearch.makeQkx3Quants(32, nmax, x, xo + 32 * j, s.weights, 0, s.L, 32 * j, s.min, s.Laux,
                    -0.9f, 0.05f, 36, false);
            s.mins[j] = s.min.value;
        }
        float dBlock = ScaleSearch.makeQpQuants(8, 63, s.scales, s.Ls, s.sw);
        float mBlock = ScaleSearch.makeQpQuants(8, 63, s.mins, s.Lm, s.sw);
        for (int j = 0; j < 8; ++j) {
            int ls = s.Ls[j] & 0xFF;
            int lm = s.Lm[j] & 0xFF;
            if (clamp63) {
                ls = Math.min(63, ls);
                lm = Math.min(63, lm);
            }
            put(y, offScales, j, ls, lm);
        }
        Bits.putF16(y, offD, dBlock);
        Bits.putF16(y, offDmin, mBlock);
    }

    /** Levels of all 256 elements against the stored fp16 d/dmin and 6-bit scales (sub-blocks with d·sc = 0 keep L). */
    static void requantize(float[] x, int xo, int nmax, byte[] y, int offD, int offDmin, int offScales, byte[] L) {
        requantize(x, xo, nmax, y, offD, offDmin, offScales, L, false);
    }

    /** {@link #requantize}, with {@code lanes} the element loops as {@link KQuantSearchKernels#levelsAffine}. */
    static void requantize(float[] x, int xo, int nmax, byte[] y, int offD, int offDmin, int offScales, byte[] L,
                           boolean lanes) {
        float dAll = Bits.getF16(y, offD);
        float mAll = Bits.getF16(y, offDmin);
        for (int j = 0; j < 8; ++j) {
            float d = dAll * scale(y, offScales, j);
            if (d == 0) {
                continue;
            }
            float dm = mAll * min(y, offScales, j);
            if (lanes) {
                KQuantSearchKernels.levelsAffine(x, xo + 32 * j, 32, dm, d, nmax, L, 32 * j);
                continue;
            }
            for (int ii = 0; ii < 32; ++ii) {
                int l = Bits.nearestInt((x[xo + 32 * j + ii] + dm) / d);
                L[32 * j + ii] = (byte) Math.max(0, Math.min(nmax, l));
            }
        }
    }
}
