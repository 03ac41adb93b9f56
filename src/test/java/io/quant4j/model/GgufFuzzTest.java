package io.quant4j.model;

import io.quant4j.testing.GgufHeaderFields;
import io.quant4j.testing.LoadOutcomes;
import io.quant4j.testing.MutableCopy;
import io.quant4j.testing.Shared;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

/**
 * Damaged GGUF files through the whole loading path (ModelLoader: GgufFile.open + GgufModelSource.load): every case
 * loads or fails with a ModelFormatException naming the file; nothing else escapes, nothing hangs.
 */
class GgufFuzzTest {
    private static final Duration LIMIT = Duration.ofSeconds(60);
    private static final long[] ABSURD_64 = {-1L, 1L << 40, 0, Long.MIN_VALUE};
    private static final int[] ABSURD_32 = {-1, 0, 13, 99, Integer.MIN_VALUE};

    @TempDir
    Path tmp;

    private static int dataOffset(byte[] gguf) {
        try (var f = io.quant4j.format.gguf.GgufFile.open(Shared.file("models/stories260K/stories260K.gguf"))) {
            return (int) f.dataOffset();
        }
    }

    /**
     * Truncation points in the header: every offset, except inside the bodies of large metadata arrays (the
     * 512-entry vocabulary, scores and types, 80% of this header) where cuts repeat the same code path; there every
     * offset near either end and every 13th offset between (13 is coprime with 4 and 8, so cuts still fall at every
     * position within a length prefix or a float). {@code -Dquant4j.fuzz.full=true} takes every offset everywhere.
     */
    static int[] headerCuts(byte[] gguf, int header) {
        boolean full = Boolean.getBoolean("quant4j.fuzz.full");
        List<long[]> bodies = GgufHeaderFields.of(gguf).arrayBodies();
        return java.util.stream.IntStream.rangeClosed(0, header).filter(n -> {
            if (full) {
                return true;
            }
            for (long[] b : bodies) {
                if (n >= b[0] + 64 && n < b[1] - 64) {
                    return (n - b[0]) % 13 == 0;
                }
            }
            return true;
        }).toArray();
    }

    @Test
    void truncatedThroughoutTheHeaderAndTheData() {
        MutableCopy copy = new MutableCopy(Shared.file("models/stories260K/stories260K.gguf"), tmp.resolve("trunc.gguf"));
        int header = dataOffset(copy.original());
        int[] headerCuts = headerCuts(copy.original(), header);
        assertThat(headerCuts.length).isGreaterThan(3000);
        LoadOutcomes out = new LoadOutcomes();
        assertTimeoutPreemptively(LIMIT, () -> {
            // downwards, so each case is one truncate of the same copy
            int[] dataCuts = spread(header, copy.size(), 64);
            for (int i = dataCuts.length - 1; i >= 0; i--) {
                copy.shrinkTo(dataCuts[i]);
                out.check("truncated to " + dataCuts[i], copy.path(), () -> ModelLoader.loadWeights(copy.path()));
            }
            for (int i = headerCuts.length - 1; i >= 0; i--) {
                copy.shrinkTo(headerCuts[i]);
                out.check("truncated to " + headerCuts[i], copy.path(), () -> ModelLoader.loadWeights(copy.path()));
            }
        }, out::current);
        assertThat(out.loaded()).isZero();
    }

    @Test
    void tinyRandomF16TruncatedThroughTheFile() {
        MutableCopy copy = new MutableCopy(Shared.file("models/tiny-random/llama-2-tiny-random.gguf"), tmp.resolve("tiny.gguf"));
        LoadOutcomes out = new LoadOutcomes();
        assertTimeoutPreemptively(LIMIT, () -> {
            int[] cuts = spread(0, copy.size(), 80);
            for (int i = cuts.length - 1; i >= 0; i--) {
                copy.shrinkTo(cuts[i]);
                out.check("truncated to " + cuts[i], copy.path(), () -> ModelLoader.loadWeights(copy.path()));
            }
        }, out::current);
        assertThat(out.loaded()).isZero();
    }

    @Test
    void absurdCountsLengthsDimsTypesAndOffsets() {
        MutableCopy copy = new MutableCopy(Shared.file("models/stories260K/stories260K.gguf"), tmp.resolve("absurd.gguf"));
        List<GgufHeaderFields.Field> fields = GgufHeaderFields.of(copy.original()).fields();
        LoadOutcomes out = absurdValues(copy, fields);
        assertThat(out.rejected()).isGreaterThan(fields.size());
    }

    @Test
    void absurdTensorInfoInTheF16Model() {
        // Every parse of this file reads a 32000-token vocabulary first, so only a few tensors' fields are varied.
        MutableCopy copy = new MutableCopy(Shared.file("models/tiny-random/llama-2-tiny-random.gguf"), tmp.resolve("absurd16.gguf"));
        List<GgufHeaderFields.Field> fields = GgufHeaderFields.of(copy.original()).fields().stream()
                .filter(f -> f.what().startsWith("token_embd.weight ") || f.what().startsWith("blk.0.attn_q.weight ")
                        || f.what().startsWith("output_norm.weight ") || f.what().startsWith("tensor count"))
                .toList();
        assertThat(fields).hasSizeGreaterThan(10);
        LoadOutcomes out = absurdValues(copy, fields);
        assertThat(out.rejected()).isGreaterThan(fields.size());
    }

    private static LoadOutcomes absurdValues(MutableCopy copy, List<GgufHeaderFields.Field> fields) {
        LoadOutcomes out = new LoadOutcomes();
        assertTimeoutPreemptively(LIMIT, () -> {
            for (GgufHeaderFields.Field f : fields) {
                if (f.width() == 8) {
                    for (long v : ABSURD_64) {
                        copy.patch(f.position(), le64(v));
                        out.check(f.what() + " = " + Long.toUnsignedString(v), copy.path(), () -> ModelLoader.loadWeights(copy.path()));
                    }
                } else {
                    for (int v : ABSURD_32) {
                        copy.patch(f.position(), le32(v));
                        out.check(f.what() + " = " + v, copy.path(), () -> ModelLoader.loadWeights(copy.path()));
                    }
                }
                copy.unpatch();
            }
        }, out::current);
        return out;
    }

    @Test
    void randomByteAndWordDamageInTheHeader() {
        MutableCopy copy = new MutableCopy(Shared.file("models/stories260K/stories260K.gguf"), tmp.resolve("flip.gguf"));
        int header = dataOffset(copy.original());
        Random random = new Random(20240611);
        LoadOutcomes out = new LoadOutcomes();
        assertTimeoutPreemptively(LIMIT, () -> {
            for (int i = 0; i < 200; i++) {
                int pos = random.nextInt(header);
                byte[] patch = switch (i % 5) {
                    case 0 -> new byte[]{(byte) (copy.original()[pos] ^ (1 << random.nextInt(8)))};
                    case 1 -> new byte[]{(byte) random.nextInt(256)};
                    case 2 -> le32(random.nextInt());
                    case 3 -> le64(random.nextLong());
                    default -> le64(ABSURD_64[random.nextInt(ABSURD_64.length)]);
                };
                copy.patch(pos, patch);
                out.check("case " + i + ": " + patch.length + " bytes at " + pos, copy.path(), () -> ModelLoader.loadWeights(copy.path()));
            }
            copy.unpatch();
        }, out::current);
        assertThat(out.rejected()).isPositive();
        assertThat(out.loaded()).isPositive(); // some damage (e.g. inside a token's text) is harmless
    }

    static int[] spread(int from, int to, int count) {
        int[] out = new int[count + 1];
        for (int i = 0; i < count; i++) {
            out[i] = from + (int) ((long) (to - from) * i / count);
        }
        out[count] = to - 1;
        return out;
    }

    static byte[] le64(long v) {
        return ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(v).array();
    }

    static byte[] le32(int v) {
        return ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(v).array();
    }
}
