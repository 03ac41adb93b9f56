package io.quant4j.tensor.quant;

import io.quant4j.tensor.GgmlType;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

import java.lang.foreign.MemorySegment;
import java.util.Arrays;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * quantize → dequantize stays within a per-type bound on |x − y| relative to the largest |x| of the
 * block (32 values, or the 256-value super-block for k-quants). Legacy and Q8 bounds follow from the
 * math (half a step, or a full step where the top level is clamped, plus fp16 rounding of the scales); k-quant
 * bounds are empirical worst cases of their scale searches with about 20% headroom. Inputs keep block maxima
 * within fp16's normal range so the stored scales keep their relative precision.
 */
class RoundTripProperties {

    /**
     * Bound on max|x − y| / max|x| per block, without and with an imatrix. The imatrix paths minimize the
     * importance-weighted error, so low-importance elements may be left far off: their bounds are looser.
     */
    static double bound(GgmlType type, boolean imatrix) {
        return switch (type) {
            case Q8_0 -> 0.57 / 127;          // half a step of amax/127, plus 127 steps of fp16 error in d
            case Q8_K -> 0.51 / 127;          // float d: half a step
            case Q4_0 -> imatrix ? 0.48 : 1.02 / 8;   // a full step: the level 16 for −max is clamped to 15
            case Q5_0 -> imatrix ? 0.27 : 1.02 / 16;
            case Q4_1 -> imatrix ? 0.45 : 2 * 0.51 / 15 + 1e-3;  // half a step of range/15, range ≤ 2·amax
            case Q5_1 -> imatrix ? 0.20 : 2 * 0.51 / 31 + 1e-3;
            // Empirical: worst of 20000 random super-blocks from these generators, plus ~20%.
            case IQ4_NL -> imatrix ? 0.62 : 0.17;
            case Q2_K -> imatrix ? 1.15 : 0.52;
            case Q3_K -> imatrix ? 0.62 : 0.32;
            case Q4_K -> imatrix ? 0.54 : 0.14;
            case Q5_K -> imatrix ? 0.21 : 0.08;
            case Q6_K -> imatrix ? 0.23 : 0.027;
            default -> throw new IllegalArgumentException(type.name());
        };
    }

    @Provide
    Arbitrary<GgmlType> types() {
        return Arbitraries.of(GgmlType.Q4_0, GgmlType.Q4_1, GgmlType.Q5_0, GgmlType.Q5_1, GgmlType.Q8_0, GgmlType.Q2_K,
                GgmlType.Q3_K, GgmlType.Q4_K, GgmlType.Q5_K, GgmlType.Q6_K, GgmlType.IQ4_NL, GgmlType.Q8_K);
    }

    /** Rows of 256 or 512 values: Gaussian, uniform, one-signed or heavy-tailed, scaled by 0.1 .. 100. */
    @Provide
    Arbitrary<float[]> rows() {
        return Combinators.combine(Arbitraries.longs(), Arbitraries.integers().between(0, 4),
                Arbitraries.doubles().between(-1, 2), Arbitraries.of(256, 512)).as((seed, kind, log10Scale, n) -> {
            Random r = new Random(seed);
            double scale = Math.pow(10, log10Scale);
            float[] x = new float[n];
            for (int i = 0; i < n; i++) {
                double v = switch (kind) {
                    case 0 -> r.nextGaussian();
                    case 1 -> 2 * r.nextDouble() - 1;
                    case 2 -> r.nextDouble() + 0.5;
                    case 3 -> -r.nextDouble();
                    default -> Math.max(-20, Math.min(20, r.nextGaussian() * Math.exp(r.nextGaussian())));
                };
                x[i] = (float) (v * scale);
            }
            return x;
        });
    }

    @Provide
    Arbitrary<float[]> importances() {
        return Arbitraries.longs().map(seed -> {
            Random r = new Random(seed);
            float[] w = new float[512];
            for (int i = 0; i < w.length; i++) {
                w[i] = (float) Math.exp(1.5 * r.nextGaussian());
            }
            return w;
        });
    }

    @Property(tries = 400)
    void roundTripWithinBound(@ForAll("types") GgmlType type, @ForAll("rows") float[] x) {
        checkBound(type, x, null);
    }

    @Property(tries = 300)
    void imatrixRoundTripWithinBound(@ForAll("types") GgmlType type, @ForAll("rows") float[] x,
                                     @ForAll("importances") float[] importance) {
        checkBound(type, x, importance);
    }

    /** A row is written to exactly its rowBytes at the given offset, and quantizing is deterministic. */
    @Property(tries = 200)
    void writesExactlyItsOwnBytes(@ForAll("types") GgmlType type, @ForAll("rows") float[] x) {
        RowCodec codec = RowCodecs.forType(type);
        int rowBytes = (int) codec.rowBytes(x.length);
        byte[] buf = new byte[rowBytes + 16];
        Arrays.fill(buf, (byte) 0x5A);
        codec.quantizeRow(x, 0, x.length, MemorySegment.ofArray(buf), 7, null);
        for (int i = 0; i < 7; i++) {
            assertThat(buf[i]).isEqualTo((byte) 0x5A);
        }
        for (int i = 7 + rowBytes; i < buf.length; i++) {
            assertThat(buf[i]).isEqualTo((byte) 0x5A);
        }
        byte[] again = new byte[rowBytes];
        codec.quantizeRow(x, 0, x.length, MemorySegment.ofArray(again), 0, null);
        assertThat(Arrays.copyOfRange(buf, 7, 7 + rowBytes)).containsExactly(again);
    }

    private static void checkBound(GgmlType type, float[] x, float[] importance) {
        RowCodec codec = RowCodecs.forType(type);
        MemorySegment q = MemorySegment.ofArray(new byte[(int) codec.rowBytes(x.length)]);
        codec.quantizeRow(x, 0, x.length, q, 0, importance);
        float[] y = new float[x.length];
        codec.dequantizeRow(q, 0, y, 0, x.length);
        double bound = bound(type, importance != null);
        int bs = type.blockSize;
        for (int b = 0; b < x.length; b += bs) {
            double amax = 0;
            double maxErr = 0;
            for (int i = b; i < b + bs; i++) {
                assertThat(Float.isFinite(y[i])).isTrue();
                amax = Math.max(amax, Math.abs(x[i]));
                maxErr = Math.max(maxErr, Math.abs((double) x[i] - y[i]));
            }
            assertThat(maxErr).as("%s block %d, amax %s", type, b / bs, amax).isLessThanOrEqualTo(bound * amax);
        }
    }
}
