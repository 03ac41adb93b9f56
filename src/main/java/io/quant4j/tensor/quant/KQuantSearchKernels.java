package io.quant4j.tensor.quant;

import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * The k-quant scale searches ({@link ScaleSearch#makeQkx2Quants}, {@link ScaleSearch#makeQxQuants}) run for
 * eight sub-blocks at once, one per lane. Each lane executes exactly the scalar algorithm on its own sub-block:
 * the same IEEE float operations on the same operands in the same order (sums accumulate element by element,
 * no fused multiply-add, no reassociation), branches turned into per-lane blends. The scalar code's
 * sequential sums are latency-bound; eight independent lanes are not, which is where the speed comes from.
 *
 * <p>Inputs are transposed: {@code xt[8·i + j]} is element i of sub-block j (likewise weights). Levels come
 * back the same way in {@code lt}. Where the scalar search copies the levels of a better candidate, the
 * lanes remember that candidate's inverse scale and offset and recompute its levels once at the end with the
 * identical expression, so the levels are the ones the scalar code would have kept.
 *
 * <p>Callers use these only for blocks of finite values of moderate size ({@link #eligible}); everything else
 * takes the scalar path. {@code KQuantSearchKernelsTest} compares whole rows byte for byte with the scalar path.
 */
final class KQuantSearchKernels {
    static final VectorSpecies<Float> F = FloatVector.SPECIES_256;
    static final int LANES = 8;
    private static final VectorSpecies<Byte> B8 = ByteVector.SPECIES_64;
    /** Beyond this magnitude products like w·x·l could overflow; such blocks take the scalar path. */
    private static final float LIMIT = 1e9f;
    private static final float MAGIC = 12582912.f; // nearest_int's 1.5·2^23

    private KQuantSearchKernels() {
    }

    /** All n values finite with magnitude ≤ 1e9. */
    static boolean eligible(float[] x, int xo, int n) {
        FloatVector m = FloatVector.zero(F);
        for (int i = 0; i < n; i += LANES) {
            m = m.max(FloatVector.fromArray(F, x, xo + i).abs());
        }
        float amax = m.reduceLanes(VectorOperators.MAX);
        return amax <= LIMIT; // false for NaN
    }

    /** xt[8·i + j] = x[xo + stride·j + i] for i < n, j < 8. */
    static void transpose(float[] x, int xo, int stride, int n, float[] xt) {
        for (int j = 0; j < LANES; j++) {
            int src = xo + stride * j;
            for (int i = 0; i < n; i++) {
                xt[LANES * i + j] = x[src + i];
            }
        }
    }

    /**
     * The weights of quantize_row_q4_K_ref / q5_K_ref per lane: av_x = sqrtf(Σx²/n) with Σx² accumulated in
     * element order, then w = av_x + |x|.
     */
    static void avxWeights(float[] xt, int n, float[] wt) {
        FloatVector sumX2 = FloatVector.zero(F);
        for (int i = 0; i < n; ++i) {
            FloatVector xi = FloatVector.fromArray(F, xt, LANES * i);
            sumX2 = sumX2.add(xi.mul(xi));
        }
        FloatVector avX = sumX2.div((float) n).lanewise(VectorOperators.SQRT);
        for (int i = 0; i < n; ++i) {
            avX.add(FloatVector.fromArray(F, xt, LANES * i).abs()).intoArray(wt, LANES * i);
        }
    }

    // lane state of qkx2Lanes between its phases, 8 floats each
    private static final int ST_MIN = 0;
    private static final int ST_MAX = 8;
    private static final int ST_SUMW = 16;
    private static final int ST_SUMX = 24;
    private static final int ST_SCALE = 32;
    private static final int ST_BEST = 40;
    private static final int ST_KEPT_ISCALE = 48;
    private static final int ST_KEPT_MIN = 56;
    private static final int ST_FLAT_MIN = 64;
    private static final int ST_FLAT = 72;
    static final int STATE_FLOATS = 80;

    /**
     * make_qkx2_quants for eight sub-blocks of n values (one per lane): scale to {@code scaleOut[outOff + j]},
     * the_min to {@code minOut[outOff + j]}, levels to {@code lt[8·i + j]}. {@code lf} (8·n floats) and
     * {@code st} ({@link #STATE_FLOATS}) are scratch. The phases are separate methods that hand the lane state
     * over in {@code st}: one method holding all of it grows past what C2 will intrinsify in one compilation
     * (it then boxes vectors), and only arrays cross these calls.
     */
    static void qkx2Lanes(float[] xt, float[] wt, int n, int nmax, float rmin, float rdelta, int nstep, boolean useMad,
                          float[] scaleOut, float[] minOut, int outOff, int[] lt, float[] lf, float[] st) {
        qkx2Start(xt, wt, n, nmax, useMad, st);
        if (nstep >= 1) {
            for (int is = 0; is <= nstep; ++is) {
                qkx2Step(xt, wt, n, nmax, rmin + rdelta * is + nmax, useMad, lf, st);
            }
        }
        qkx2Finish(xt, n, nmax, scaleOut, minOut, outOff, lt, st);
    }

    /** Range, weighted sums, and the first candidate's error (iscale = nmax/(max − min)). */
    private static void qkx2Start(float[] xt, float[] wt, int n, int nmax, boolean useMad, float[] st) {
        FloatVector zero = FloatVector.zero(F);
        FloatVector x0 = FloatVector.fromArray(F, xt, 0);
        FloatVector sumW = FloatVector.fromArray(F, wt, 0);
        FloatVector min = x0;
        FloatVector max = x0;
        FloatVector sumX = sumW.mul(x0);
        for (int i = 1; i < n; ++i) {
            FloatVector xi = FloatVector.fromArray(F, xt, LANES * i);
            FloatVector w = FloatVector.fromArray(F, wt, LANES * i);
            min = min.blend(xi, xi.compare(VectorOperators.LT, min));
            max = max.blend(xi, xi.compare(VectorOperators.GT, max));
            sumW = sumW.add(w);
            sumX = sumX.add(w.mul(xi));
        }
        min = min.blend(zero, min.compare(VectorOperators.GT, 0f));
        VectorMask<Float> flat = max.compare(VectorOperators.EQ, min);
        FloatVector iscale = FloatVector.broadcast(F, (float) nmax).div(max.sub(min));
        FloatVector scale = FloatVector.broadcast(F, 1f).div(iscale);
        FloatVector bestError = zero;
        for (int i = 0; i < n; ++i) {
            FloatVector xi = FloatVector.fromArray(F, xt, LANES * i);
            FloatVector w = FloatVector.fromArray(F, wt, LANES * i);
            FloatVector v = iscale.mul(xi.sub(min)).add(MAGIC);
            IntVector l = v.reinterpretAsInts().and(0x007fffff).sub(0x00400000).max(0).min(nmax);
            FloatVector lv = l.convert(VectorOperators.I2F, 0).reinterpretAsFloats();
            FloatVector diff = scale.mul(lv).add(min).sub(xi);
            diff = useMad ? diff.abs() : diff.mul(diff);
            bestError = bestError.add(w.mul(diff));
        }
        min.intoArray(st, ST_MIN);
        max.intoArray(st, ST_MAX);
        sumW.intoArray(st, ST_SUMW);
        sumX.intoArray(st, ST_SUMX);
        scale.intoArray(st, ST_SCALE);
        bestError.intoArray(st, ST_BEST);
        // the candidate whose levels are kept: l = nearest_int(keptIscale·(x − keptMin))
        iscale.intoArray(st, ST_KEPT_ISCALE);
        min.intoArray(st, ST_KEPT_MIN);
        min.intoArray(st, ST_FLAT_MIN);
        zero.blend(1f, flat).intoArray(st, ST_FLAT);
    }

    /** One grid step: iscale = num/(max − min), least-squares scale and min, kept where its error is lower. */
    private static void qkx2Step(float[] xt, float[] wt, int n, int nmax, float num, boolean useMad, float[] lf, float[] st) {
        FloatVector zero = FloatVector.zero(F);
        FloatVector min = FloatVector.fromArray(F, st, ST_MIN);
        FloatVector max = FloatVector.fromArray(F, st, ST_MAX);
        FloatVector isc = FloatVector.broadcast(F, num).div(max.sub(min));
        FloatVector sumL = zero;
        FloatVector sumL2 = zero;
        FloatVector sumXL = zero;
        for (int i = 0; i < n; ++i) {
            FloatVector xi = FloatVector.fromArray(F, xt, LANES * i);
            FloatVector w = FloatVector.fromArray(F, wt, LANES * i);
            FloatVector v = isc.mul(xi.sub(min)).add(MAGIC);
            IntVector l = v.reinterpretAsInts().and(0x007fffff).sub(0x00400000).max(0).min(nmax);
            FloatVector lv = l.convert(VectorOperators.I2F, 0).reinterpretAsFloats();
            lv.intoArray(lf, LANES * i);
            FloatVector wl = w.mul(lv);
            sumL = sumL.add(wl);
            sumL2 = sumL2.add(wl.mul(lv));
            sumXL = sumXL.add(wl.mul(xi));
        }
        FloatVector sumW = FloatVector.fromArray(F, st, ST_SUMW);
        FloatVector sumX = FloatVector.fromArray(F, st, ST_SUMX);
        FloatVector D = sumW.mul(sumL2).sub(sumL.mul(sumL));
        VectorMask<Float> ok = D.compare(VectorOperators.GT, 0f);
        if (!ok.anyTrue()) {
            return;
        }
        FloatVector thisScale = sumW.mul(sumXL).sub(sumX.mul(sumL)).div(D);
        FloatVector thisMin = sumL2.mul(sumX).sub(sumL.mul(sumXL)).div(D);
        VectorMask<Float> positive = thisMin.compare(VectorOperators.GT, 0f);
        thisMin = thisMin.blend(zero, positive);
        thisScale = thisScale.blend(sumXL.div(sumL2), positive);
        FloatVector curError = zero;
        for (int i = 0; i < n; ++i) {
            FloatVector xi = FloatVector.fromArray(F, xt, LANES * i);
            FloatVector w = FloatVector.fromArray(F, wt, LANES * i);
            FloatVector lv = FloatVector.fromArray(F, lf, LANES * i);
            FloatVector diff = thisScale.mul(lv).add(thisMin).sub(xi);
            diff = useMad ? diff.abs() : diff.mul(diff);
            curError = curError.add(w.mul(diff));
        }
        FloatVector bestError = FloatVector.fromArray(F, st, ST_BEST);
        VectorMask<Float> better = ok.and(curError.compare(VectorOperators.LT, bestError));
        FloatVector.fromArray(F, st, ST_KEPT_ISCALE).blend(isc, better).intoArray(st, ST_KEPT_ISCALE);
        FloatVector.fromArray(F, st, ST_KEPT_MIN).blend(min, better).intoArray(st, ST_KEPT_MIN);
        bestError.blend(curError, better).intoArray(st, ST_BEST);
        FloatVector.fromArray(F, st, ST_SCALE).blend(thisScale, better).intoArray(st, ST_SCALE);
        min.blend(thisMin, better).intoArray(st, ST_MIN);
    }

    /** Results; flat lanes (max = min) get scale 0, the_min −min and levels 0 as in the scalar early return. */
    private static void qkx2Finish(float[] xt, int n, int nmax, float[] scaleOut, float[] minOut, int outOff, int[] lt,
                                   float[] st) {
        VectorMask<Float> flat = FloatVector.fromArray(F, st, ST_FLAT).compare(VectorOperators.EQ, 1f);
        FloatVector.fromArray(F, st, ST_SCALE).blend(0f, flat).intoArray(scaleOut, outOff);
        FloatVector.fromArray(F, st, ST_MIN).blend(FloatVector.fromArray(F, st, ST_FLAT_MIN), flat).neg()
                .intoArray(minOut, outOff);
        FloatVector keptIscale = FloatVector.fromArray(F, st, ST_KEPT_ISCALE);
        FloatVector keptMin = FloatVector.fromArray(F, st, ST_KEPT_MIN);
        VectorMask<Integer> flatI = flat.cast(IntVector.SPECIES_256);
        for (int i = 0; i < n; ++i) {
            FloatVector xi = FloatVector.fromArray(F, xt, LANES * i);
            FloatVector v = keptIscale.mul(xi.sub(keptMin)).add(MAGIC);
            IntVector l = v.reinterpretAsInts().and(0x007fffff).sub(0x00400000).max(0).min(nmax);
            l.blend(0, flatI).intoArray(lt, LANES * i);
        }
    }

    /**
     * make_qx_quants with rmse_type 1 for eight sub-blocks of n values (one per lane): weights {@code wt}
     * (transposed like xt), or x² where null. Scale to {@code scaleOut[outOff + j]}, levels (in [0, 2·nmax))
     * to {@code lt[8·i + j]}.
     */
    static void qxLanes(float[] xt, float[] wt, int n, int nmax, float[] scaleOut, int outOff, int[] lt) {
        FloatVector zero = FloatVector.zero(F);
        FloatVector amax = zero;
        FloatVector max = zero;
        for (int i = 0; i < n; ++i) {
            FloatVector xi = FloatVector.fromArray(F, xt, LANES * i);
            FloatVector ax = xi.abs();
            VectorMask<Float> larger = ax.compare(VectorOperators.GT, amax);
            amax = amax.blend(ax, larger);
            max = max.blend(xi, larger);
        }
        VectorMask<Float> small = amax.compare(VectorOperators.LT, Bits.GROUP_MAX_EPS);
        FloatVector iscale = FloatVector.broadcast(F, (float) -nmax).div(max);
        FloatVector sumlx = zero;
        FloatVector suml2 = zero;
        for (int i = 0; i < n; ++i) {
            FloatVector xi = FloatVector.fromArray(F, xt, LANES * i);
            FloatVector v = iscale.mul(xi).add(MAGIC);
            IntVector l = v.reinterpretAsInts().and(0x007fffff).sub(0x00400000).max(-nmax).min(nmax - 1);
            FloatVector lv = l.convert(VectorOperators.I2F, 0).reinterpretAsFloats();
            FloatVector w = wt != null ? FloatVector.fromArray(F, wt, LANES * i) : xi.mul(xi);
            sumlx = sumlx.add(w.mul(xi).mul(lv));
            suml2 = suml2.add(w.mul(lv).mul(lv));
        }
        FloatVector scale = sumlx.div(suml2).blend(zero, suml2.compare(VectorOperators.EQ, 0f));
        FloatVector best = scale.mul(sumlx);
        FloatVector keptIscale = iscale;
        for (int is = -9; is <= 9; ++is) {
            if (is == 0) {
                continue;
            }
            FloatVector isc = FloatVector.broadcast(F, -(nmax + 0.1f * is)).div(max);
            FloatVector slx = zero;
            FloatVector sl2 = zero;
            for (int i = 0; i < n; ++i) {
                FloatVector xi = FloatVector.fromArray(F, xt, LANES * i);
                FloatVector v = isc.mul(xi).add(MAGIC);
                IntVector l = v.reinterpretAsInts().and(0x007fffff).sub(0x00400000).max(-nmax).min(nmax - 1);
                FloatVector lv = l.convert(VectorOperators.I2F, 0).reinterpretAsFloats();
                FloatVector w = wt != null ? FloatVector.fromArray(F, wt, LANES * i) : xi.mul(xi);
                slx = slx.add(w.mul(xi).mul(lv));
                sl2 = sl2.add(w.mul(lv).mul(lv));
            }
            VectorMask<Float> better = sl2.compare(VectorOperators.GT, 0f)
                    .and(slx.mul(slx).compare(VectorOperators.GT, best.mul(sl2)));
            FloatVector newScale = slx.div(sl2);
            keptIscale = keptIscale.blend(isc, better);
            scale = scale.blend(newScale, better);
            best = best.blend(newScale.mul(slx), better);
        }
        scale.blend(zero, small).intoArray(scaleOut, outOff);
        VectorMask<Integer> smallI = small.cast(IntVector.SPECIES_256);
        for (int i = 0; i < n; ++i) {
            FloatVector xi = FloatVector.fromArray(F, xt, LANES * i);
            FloatVector v = keptIscale.mul(xi).add(MAGIC);
            IntVector l = v.reinterpretAsInts().and(0x007fffff).sub(0x00400000).max(-nmax).min(nmax - 1).add(nmax);
            l.blend(0, smallI).intoArray(lt, LANES * i);
        }
    }

    /** L[lo + i] = clamp(nearest_int((x[xo + i] + dm) / d), 0, nmax) for i < n (n a multiple of 8). */
    static void levelsAffine(float[] x, int xo, int n, float dm, float d, int nmax, byte[] L, int lo) {
        for (int i = 0; i < n; i += LANES) {
            FloatVector v = FloatVector.fromArray(F, x, xo + i).add(dm).div(d).add(MAGIC);
            v.reinterpretAsInts().and(0x007fffff).sub(0x00400000).max(0).min(nmax)
                    .convertShape(VectorOperators.I2B, B8, 0).reinterpretAsBytes().intoArray(L, lo + i);
        }
    }

    /** L[lo + i] = clamp(nearest_int(x[xo + i] / d), −nmax, nmax − 1) + nmax for i < n (n a multiple of 8). */
    static void levelsSymmetric(float[] x, int xo, int n, float d, int nmax, byte[] L, int lo) {
        for (int i = 0; i < n; i += LANES) {
            FloatVector v = FloatVector.fromArray(F, x, xo + i).div(d).add(MAGIC);
            v.reinterpretAsInts().and(0x007fffff).sub(0x00400000).max(-nmax).min(nmax - 1).add(nmax)
                    .convertShape(VectorOperators.I2B, B8, 0).reinterpretAsBytes().intoArray(L, lo + i);
        }
    }
}
