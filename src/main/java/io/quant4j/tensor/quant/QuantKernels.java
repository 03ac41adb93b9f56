package io.quant4j.tensor.quant;

import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;

/**
 * Vector API dot products of a quantized row with float activations, each checked against
 * {@link QuantizedMatrix#dotScalar} by a differential test. Fixed 8-float lanes: a block of 32 is four
 * whole vectors on every platform, and AVX2 runs them natively. First versions, not yet tuned.
 */
final class QuantKernels {
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_256;
    private static final VectorSpecies<Byte> B8 = ByteVector.SPECIES_64;
    private static final VectorSpecies<Byte> B16 = ByteVector.SPECIES_128;

    private QuantKernels() {
    }

    /** Q8_0: per block Σ q·x over four 8-lane chunks, then scaled by d into the running sum. */
    static float dotQ8_0(MemorySegment w, long offset, float[] x, int xOffset, int n) {
        FloatVector acc = FloatVector.zero(F);
        int nb = n / Q8_0.QK;
        for (int b = 0; b < nb; b++) {
            long bo = offset + (long) b * Q8_0.BLOCK_BYTES;
            float d = Float.float16ToFloat(w.get(Bits.I16, bo + Q8_0.OFF_D));
            int xo = xOffset + b * Q8_0.QK;
            FloatVector blockSum = FloatVector.zero(F);
            for (int c = 0; c < Q8_0.QK; c += 8) {
                ByteVector q = ByteVector.fromMemorySegment(B8, w, bo + Q8_0.OFF_QS + c, ByteOrder.LITTLE_ENDIAN);
                FloatVector qf = (FloatVector) q.convertShape(VectorOperators.B2F, F, 0);
                blockSum = qf.fma(FloatVector.fromArray(F, x, xo + c), blockSum);
            }
            acc = blockSum.fma(FloatVector.broadcast(F, d), acc);
        }
        return acc.reduceLanes(VectorOperators.ADD);
    }

    /** Q4_0: low nibbles are elements 0-15, high nibbles 16-31; both offset by −8 before the float convert. */
    static float dotQ4_0(MemorySegment w, long offset, float[] x, int xOffset, int n) {
        FloatVector acc = FloatVector.zero(F);
        int nb = n / Q4_0.QK;
        for (int b = 0; b < nb; b++) {
            long bo = offset + (long) b * Q4_0.BLOCK_BYTES;
            float d = Float.float16ToFloat(w.get(Bits.I16, bo + Q4_0.OFF_D));
            int xo = xOffset + b * Q4_0.QK;
            ByteVector qs = ByteVector.fromMemorySegment(B16, w, bo + Q4_0.OFF_QS, ByteOrder.LITTLE_ENDIAN);
            ByteVector lo = qs.and((byte) 0x0F).sub((byte) 8);
            ByteVector hi = qs.lanewise(VectorOperators.LSHR, 4).and((byte) 0x0F).sub((byte) 8);
            FloatVector blockSum = ((FloatVector) lo.convertShape(VectorOperators.B2F, F, 0)).mul(FloatVector.fromArray(F, x, xo));
            blockSum = ((FloatVector) lo.convertShape(VectorOperators.B2F, F, 1)).fma(FloatVector.fromArray(F, x, xo + 8), blockSum);
            blockSum = ((FloatVector) hi.convertShape(VectorOperators.B2F, F, 0)).fma(FloatVector.fromArray(F, x, xo + 16), blockSum);
            blockSum = ((FloatVector) hi.convertShape(VectorOperators.B2F, F, 1)).fma(FloatVector.fromArray(F, x, xo + 24), blockSum);
            acc = blockSum.fma(FloatVector.broadcast(F, d), acc);
        }
        return acc.reduceLanes(VectorOperators.ADD);
    }
}
