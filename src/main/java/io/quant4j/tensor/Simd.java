package io.quant4j.tensor;

import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShuffle;
import jdk.incubator.vector.VectorSpecies;

import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;

/**
 * What the weight kernels share: 8-float lanes (a 32-value block is four whole vectors; AVX2 runs them natively,
 * AVX-512 runs them as half vectors) and the small load-and-widen steps they are built from. Machines whose widest
 * vector is narrower than 256 bits (NEON) would emulate these lanes slowly, so there the kernels fall back to
 * their scalar references, as they do with {@code -Dquant4j.simd=false}.
 */
public final class Simd {
    public static final VectorSpecies<Float> F = FloatVector.SPECIES_256;
    public static final VectorSpecies<Integer> I = IntVector.SPECIES_256;
    public static final VectorSpecies<Byte> B8 = ByteVector.SPECIES_64;
    public static final VectorSpecies<Short> S8 = ShortVector.SPECIES_128;
    public static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;

    /** True when the Vector API kernels run; false selects the scalar references everywhere. */
    public static final boolean ENABLED = Boolean.parseBoolean(System.getProperty("quant4j.simd", "true"))
            && FloatVector.SPECIES_PREFERRED.vectorBitSize() >= 256;

    private static final FloatVector HALF_EXP_BIAS = FloatVector.broadcast(F, 0x1.0p112f);

    private Simd() {
    }

    /** Eight unsigned bytes at {@code off} widened to ints (one vpmovzxbd from memory). */
    public static IntVector u8(MemorySegment w, long off) {
        return (IntVector) ByteVector.fromMemorySegment(B8, w, off, LE).convertShape(VectorOperators.ZERO_EXTEND_B2I, I, 0);
    }

    /** Eight signed bytes at {@code off} widened to ints. */
    public static IntVector s8(MemorySegment w, long off) {
        return (IntVector) ByteVector.fromMemorySegment(B8, w, off, LE).convertShape(VectorOperators.B2I, I, 0);
    }

    public static FloatVector toFloat(IntVector v) {
        return (FloatVector) v.convert(VectorOperators.I2F, 0);
    }

    /**
     * IEEE halves (sign-extended into int lanes) to floats without a half-precision instruction, which the Vector
     * API lacks: moving exponent and mantissa up 13 bits and multiplying by 2^112 rebiases the exponent exactly,
     * subnormal halves included (they become normal floats). Infinities and NaNs (exponent 31) would come out as
     * finite values near 2^16, so those lanes are rebuilt with an all-ones float exponent.
     */
    public static FloatVector halfToFloat(IntVector h) {
        IntVector bits = h.lanewise(VectorOperators.LSHL, 13).and(0x8FFFE000);
        FloatVector f = bits.reinterpretAsFloats().mul(HALF_EXP_BIAS);
        var special = h.and(0x7C00).eq(0x7C00);
        if (special.anyTrue()) {
            // As vcvtph2ps (and Float.float16ToFloat) does, a signalling NaN comes out quiet: mantissa ≠ 0 sets bit 22.
            IntVector quiet = h.and(0x3FF).add(0x3FF).and(0x400).lanewise(VectorOperators.LSHL, 12);
            f = f.blend(bits.or(0x7F800000).or(quiet).reinterpretAsFloats(), special.cast(F));
        }
        return f;
    }

    /** Eight halves at {@code off} sign-extended into int lanes. */
    public static IntVector s16(MemorySegment w, long off) {
        return (IntVector) ShortVector.fromMemorySegment(S8, w, off, LE).convertShape(VectorOperators.S2I, I, 0);
    }

    /**
     * {@link #halfToFloat} for halves known to be finite (exponent below 31): no special-value test, so a kernel can
     * check a whole row once instead (see F16Matrix) and redo it through the exact path if needed.
     */
    public static FloatVector finiteHalfToFloat(IntVector h) {
        return h.lanewise(VectorOperators.LSHL, 13).and(0x8FFFE000).reinterpretAsFloats().mul(HALF_EXP_BIAS);
    }

    /** Eight halves at {@code off} as floats. */
    public static FloatVector f16(MemorySegment w, long off) {
        return halfToFloat((IntVector) ShortVector.fromMemorySegment(S8, w, off, LE).convertShape(VectorOperators.S2I, I, 0));
    }

    /** Eight halves of {@code h} from {@code off} as floats. */
    public static FloatVector f16(short[] h, int off) {
        return halfToFloat((IntVector) ShortVector.fromArray(S8, h, off).convertShape(VectorOperators.S2I, I, 0));
    }

    /** Eight bfloat16 at {@code off} as floats: the upper half of a float's bits. */
    public static FloatVector bf16(MemorySegment w, long off) {
        IntVector v = (IntVector) ShortVector.fromMemorySegment(S8, w, off, LE).convertShape(VectorOperators.S2I, I, 0);
        return v.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
    }

    private static final VectorShuffle<Float> SWAP4 = VectorShuffle.fromValues(F, 4, 5, 6, 7, 0, 1, 2, 3);
    private static final VectorShuffle<Float> SWAP2 = VectorShuffle.fromValues(F, 2, 3, 0, 1, 6, 7, 4, 5);
    private static final VectorShuffle<Float> SWAP1 = VectorShuffle.fromValues(F, 1, 0, 3, 2, 5, 4, 7, 6);

    /**
     * The sum of the 8 lanes in a fixed tree order. reduceLanes(ADD) may add in any order, and does differ between
     * the interpreter and compiled code, so results would depend on JIT timing; this does not.
     */
    /**
     * e^x per lane (Cephes expf: x = n·ln2 + r, a degree-6 polynomial for e^r, 2^n built in the exponent bits), within
     * 2 ulps for x in [−87.3, 88.3]; inputs are clamped to that range, so results are never 0 or infinite (NaN stays
     * NaN). Written in plain lanewise arithmetic rather than VectorOperators.EXP, whose compiled (SVML) and
     * interpreted forms round differently, which would make outputs depend on JIT timing.
     */
    public static FloatVector exp(FloatVector x) {
        x = x.max(-87.3f).min(88.3f);
        FloatVector n = x.fma(1.44269504088896341f, 12582912f).sub(12582912f); // round(x / ln2)
        FloatVector r = n.fma(bc(-0.693359375f), x);
        r = n.fma(bc(2.12194440e-4f), r);
        FloatVector p = bc(1.9875691500e-4f);
        p = p.fma(r, bc(1.3981999507e-3f));
        p = p.fma(r, bc(8.3334519073e-3f));
        p = p.fma(r, bc(4.1665795894e-2f));
        p = p.fma(r, bc(1.6666665459e-1f));
        p = p.fma(r, bc(5.0000001201e-1f));
        FloatVector e = p.mul(r).fma(r, r).add(1f);
        IntVector pow2 = ((IntVector) n.convert(VectorOperators.F2I, 0)).add(127).lanewise(VectorOperators.LSHL, 23);
        return e.mul(pow2.reinterpretAsFloats());
    }

    private static FloatVector bc(float v) {
        return FloatVector.broadcast(F, v);
    }

    /**
     * The 8 floats at {@code o} summed in {@link #sum}'s tree order: for kernels that store their accumulator to a
     * scratch array rather than spend C2's inlining budget on the shuffles of {@link #sum}.
     */
    public static float sumLanes(float[] a, int o) {
        return ((a[o] + a[o + 4]) + (a[o + 2] + a[o + 6])) + ((a[o + 1] + a[o + 5]) + (a[o + 3] + a[o + 7]));
    }

    public static float sum(FloatVector v) {
        FloatVector a = v.add(v.rearrange(SWAP4));
        FloatVector b = a.add(a.rearrange(SWAP2));
        return b.add(b.rearrange(SWAP1)).lane(0);
    }
}
