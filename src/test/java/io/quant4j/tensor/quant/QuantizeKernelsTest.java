package io.quant4j.tensor.quant;

import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Differential tests: every Vector API fast path in {@link QuantizeKernels} must give the bytes of the scalar
 * reference it replaces, on random rows and on rows built to hit the edge cases (ties, exact halves, zeros,
 * subnormals, NaN, infinities, huge values).
 */
class QuantizeKernelsTest {
    private static final int ROWS = 400;

    @Test
    void f16ToF32MatchesFloat16ToFloatForEveryHalf() {
        int n = 65536 + 5;
        MemorySegment src = Arena.ofAuto().allocate(2L * n + 2);
        for (int i = 0; i < n; i++) {
            src.set(Bits.I16, 2 + 2L * i, (short) i);
        }
        float[] fast = new float[n + 3];
        float[] ref = new float[n + 3];
        QuantizeKernels.f16ToF32(src, 2, fast, 3, n);
        F16.dequantizeRowScalar(src, 2, ref, 3, n);
        for (int i = 0; i < n + 3; i++) {
            assertThat(bits(fast[i])).as("half 0x%04x", (i - 3) & 0xFFFF).isEqualTo(bits(ref[i]));
        }
    }

    /**
     * Raw bits, except that a NaN counts as quiet: HotSpot's intrinsic for Float.float16ToFloat (F16C) quiets
     * signalling NaNs, the interpreted method does not, and which one runs depends on the JIT's mood.
     */
    private static int bits(float f) {
        int b = Float.floatToRawIntBits(f);
        return f != f ? b | 0x00400000 : b;
    }

    @Test
    void q8_0MatchesScalarReference() {
        Random rnd = new Random(8);
        for (int r = 0; r < ROWS; r++) {
            float[] x = row(rnd, 32 * (1 + rnd.nextInt(24)), 127);
            int n = x.length;
            byte[] fast = new byte[(int) Q8_0.INSTANCE.rowBytes(n) + 3];
            byte[] ref = fast.clone();
            Q8_0.INSTANCE.quantizeRow(x, 0, n, MemorySegment.ofArray(fast), 3, null);
            Q8_0.quantizeRowScalar(x, 0, n, MemorySegment.ofArray(ref), 3);
            assertThat(fast).as("row %d", r).isEqualTo(ref);
        }
    }

    @Test
    void q4_0MatchesScalarReference() {
        Random rnd = new Random(4);
        for (int r = 0; r < ROWS; r++) {
            float[] x = row(rnd, 32 * (1 + rnd.nextInt(24)), 8);
            int n = x.length;
            byte[] fast = new byte[(int) Q4_0.INSTANCE.rowBytes(n) + 1];
            byte[] ref = fast.clone();
            Q4_0.INSTANCE.quantizeRow(x, 0, n, MemorySegment.ofArray(fast), 1, null);
            Q4_0.quantizeRowScalar(x, 0, n, MemorySegment.ofArray(ref), 1);
            assertThat(fast).as("row %d", r).isEqualTo(ref);
        }
    }

    @Test
    void nativeDestinationToo() {
        Random rnd = new Random(1);
        float[] x = row(rnd, 4096, 127);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment a = arena.allocate(Q8_0.INSTANCE.rowBytes(4096));
            MemorySegment b = MemorySegment.ofArray(new byte[(int) Q8_0.INSTANCE.rowBytes(4096)]);
            Q8_0.INSTANCE.quantizeRow(x, 0, 4096, a, 0, null);
            Q8_0.quantizeRowScalar(x, 0, 4096, b, 0);
            assertThat(a.mismatch(b)).isEqualTo(-1);
        }
    }

    /**
     * A row of blocks of 32, each drawn from one of several shapes. {@code levels} is the type's level count
     * for the blocks that land exactly on rounding halves (127 for Q8_0, where d = 1).
     */
    static float[] row(Random rnd, int n, int levels) {
        float[] x = new float[n];
        for (int b = 0; b < n; b += 32) {
            int kind = rnd.nextInt(15);
            float scale = (float) Math.pow(10, rnd.nextInt(16) - 8);
            for (int j = 0; j < 32; j++) {
                x[b + j] = switch (kind) {
                    case 0 -> 0f;
                    case 1 -> rnd.nextBoolean() ? -0f : 0f;
                    // exact halves: with amax = levels the scale is 1 (Q8_0) and x·id lands on k + ½
                    case 2 -> j == 0 ? levels : (rnd.nextInt(2 * levels) - levels) + 0.5f;
                    case 3 -> j == 0 ? -levels : (rnd.nextInt(2 * levels) - levels) + 0.5f;
                    // ties for the largest magnitude, both signs
                    case 4 -> (rnd.nextBoolean() ? 1 : -1) * (rnd.nextInt(3) == 0 ? 3f : rnd.nextInt(3));
                    case 5 -> Float.MIN_VALUE * rnd.nextInt(1000) * (rnd.nextBoolean() ? 1 : -1);
                    case 6 -> (float) rnd.nextGaussian() * 1e-36f;
                    case 7 -> j == rnd.nextInt(32) ? Float.NaN : (float) rnd.nextGaussian();
                    case 8 -> j == 5 ? (rnd.nextBoolean() ? Float.POSITIVE_INFINITY : Float.NEGATIVE_INFINITY) : (float) rnd.nextGaussian();
                    case 9 -> (float) rnd.nextGaussian() * 3e38f;
                    // a NaN makes the reference's maximum skip what came before it
                    case 14 -> j == 0 ? 1e30f : j == 1 ? Float.NaN : (float) rnd.nextGaussian() * 1e-3f;
                    case 10 -> Float.float16ToFloat((short) rnd.nextInt(0x7c00)) * (rnd.nextBoolean() ? 1 : -1);
                    case 11 -> rnd.nextFloat() * scale; // all positive
                    case 12 -> -rnd.nextFloat() * scale; // all negative
                    default -> (float) rnd.nextGaussian() * scale;
                };
            }
        }
        return x;
    }
}
