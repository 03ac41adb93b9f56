package io.quant4j.model;

import io.quant4j.testing.LoadOutcomes;
import io.quant4j.testing.MutableCopy;
import io.quant4j.testing.Shared;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static io.quant4j.model.GgufFuzzTest.le64;
import static io.quant4j.model.GgufFuzzTest.spread;
import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

/**
 * Damaged copies of the stories260K Hugging Face folder through ModelLoader (SafetensorsFile +
 * HuggingFaceModelSource): every case loads or fails with a ModelFormatException naming the damaged file.
 */
class HuggingFaceFuzzTest {
    private static final Duration LIMIT = Duration.ofSeconds(60);

    @TempDir
    Path tmp;
    Path dir;
    MutableCopy weights;
    MutableCopy config;
    int dataOffset;

    @BeforeEach
    void copyFolder() {
        dir = tmp.resolve("hfmodel");
        try {
            Files.createDirectories(dir);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        Path src = Shared.file("models/stories260K/hf");
        config = new MutableCopy(src.resolve("config.json"), dir.resolve("config.json"));
        weights = new MutableCopy(src.resolve("model.safetensors"), dir.resolve("model.safetensors"));
        dataOffset = 8 + (int) ByteBuffer.wrap(weights.original()).order(ByteOrder.LITTLE_ENDIAN).getLong(0);
    }

    private void check(LoadOutcomes out, String name, Path damaged) {
        out.check(name, damaged, () -> ModelLoader.loadWeights(dir));
    }

    @Test
    void truncatedThroughoutTheHeaderAndTheData() {
        LoadOutcomes out = new LoadOutcomes();
        assertTimeoutPreemptively(LIMIT, () -> {
            int[] dataCuts = spread(dataOffset, weights.size(), 64);
            for (int i = dataCuts.length - 1; i >= 0; i--) {
                weights.shrinkTo(dataCuts[i]);
                check(out, "truncated to " + dataCuts[i], weights.path());
            }
            // Every offset near the ends of the header; inside the JSON every cut fails on the same check (the
            // declared header length exceeds the file), so there every 13th (all of them with -Dquant4j.fuzz.full=true).
            boolean full = Boolean.getBoolean("quant4j.fuzz.full");
            for (int n = dataOffset; n >= 0; n--) {
                if (full || n < 72 || n > dataOffset - 64 || n % 13 == 0) {
                    weights.shrinkTo(n);
                    check(out, "truncated to " + n, weights.path());
                }
            }
        }, out::current);
        assertThat(out.loaded()).isZero();
    }

    @Test
    void absurdHeaderLengths() {
        long size = weights.size();
        LoadOutcomes out = new LoadOutcomes();
        assertTimeoutPreemptively(LIMIT, () -> {
            for (long v : new long[]{-1L, 1L << 40, 0, 1, 7, dataOffset - 9, dataOffset - 7, size - 8, size, 100_000_001L, Long.MIN_VALUE}) {
                weights.patch(0, le64(v));
                check(out, "header length " + Long.toUnsignedString(v), weights.path());
            }
        }, out::current);
        assertThat(out.loaded()).isZero();
    }

    @Test
    void randomDamageInTheJsonHeader() {
        Random random = new Random(7);
        LoadOutcomes out = new LoadOutcomes();
        assertTimeoutPreemptively(LIMIT, () -> {
            for (int i = 0; i < 200; i++) {
                int pos = 8 + random.nextInt(dataOffset - 8);
                byte[] patch = switch (i % 4) {
                    case 0 -> new byte[]{(byte) (weights.original()[pos] ^ (1 << random.nextInt(8)))};
                    case 1 -> new byte[]{(byte) random.nextInt(256)};
                    case 2 -> new byte[]{(byte) "0123456789[]{},:\"-. e".charAt(random.nextInt(21))};
                    default -> GgufFuzzTest.le32(random.nextInt());
                };
                weights.patch(pos, patch);
                check(out, "case " + i + ": " + patch.length + " bytes at " + pos, weights.path());
            }
            weights.unpatch();
        }, out::current);
        assertThat(out.rejected()).isPositive();
    }

    /** Shapes and offsets replaced by absurd numbers (the header is rebuilt around them, data kept). */
    @Test
    void absurdShapesAndOffsets() {
        String header = new String(weights.original(), 8, dataOffset - 8, StandardCharsets.UTF_8);
        List<int[]> numbers = new ArrayList<>();
        Matcher m = Pattern.compile("(?<=[\\[,])\\d+(?=[\\],])").matcher(header); // inside shape / data_offsets arrays
        while (m.find()) {
            numbers.add(new int[]{m.start(), m.end()});
        }
        assertThat(numbers).hasSizeGreaterThan(100);
        String[] absurd = {"18446744073709551615", "1099511627776", "-1", "0", "1e400", "9223372036854775808", "1.5", "4294967296"};
        LoadOutcomes out = new LoadOutcomes();
        assertTimeoutPreemptively(LIMIT, () -> {
            for (int i = 0; i < numbers.size(); i += 9) {
                int[] n = numbers.get(i);
                for (String v : absurd) {
                    weights.replaceWith(withHeader(header.substring(0, n[0]) + v + header.substring(n[1])));
                    check(out, "number " + header.substring(n[0], n[1]) + " at " + n[0] + " = " + v, weights.path());
                }
            }
        }, out::current);
        assertThat(out.loaded()).isZero();
    }

    @Test
    void wrongAndUnknownDtypes() {
        String header = new String(weights.original(), 8, dataOffset - 8, StandardCharsets.UTF_8);
        LoadOutcomes out = new LoadOutcomes();
        String[] dtypes = {"I32", "U32", "F16", "F64", "I64", "U16", "Q32", "f32"};
        assertTimeoutPreemptively(LIMIT, () -> {
            int k = 0;
            for (int at = header.indexOf("\"F32\""); at >= 0; at = header.indexOf("\"F32\"", at + 1), k++) {
                weights.patch(8 + at + 1, dtypes[k % dtypes.length].getBytes(StandardCharsets.US_ASCII));
                check(out, "dtype at " + at + " = " + dtypes[k % dtypes.length], weights.path());
            }
            weights.unpatch();
        }, out::current);
        assertThat(out.rejected()).isGreaterThan(40);
    }

    @Test
    void randomDamageInConfigJson() {
        Random random = new Random(11);
        LoadOutcomes out = new LoadOutcomes();
        assertTimeoutPreemptively(LIMIT, () -> {
            for (int i = 0; i < 150; i++) {
                int pos = random.nextInt(config.size());
                byte b = i % 2 == 0 ? (byte) "0123456789{}[],:\"-.e ntf".charAt(random.nextInt(24)) : (byte) random.nextInt(256);
                config.patch(pos, new byte[]{b});
                check(out, "config.json byte " + pos + " = " + b, dir);
            }
            config.unpatch();
        }, out::current);
        assertThat(out.rejected()).isPositive();
        assertThat(out.loaded()).isPositive();
    }

    private byte[] withHeader(String header) {
        byte[] h = header.getBytes(StandardCharsets.UTF_8);
        int dataLength = weights.size() - dataOffset;
        return ByteBuffer.allocate(8 + h.length + dataLength).order(ByteOrder.LITTLE_ENDIAN)
                .putLong(h.length).put(h).put(weights.original(), dataOffset, dataLength).array();
    }
}
