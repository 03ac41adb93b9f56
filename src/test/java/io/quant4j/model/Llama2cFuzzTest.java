package io.quant4j.model;

import io.quant4j.testing.LoadOutcomes;
import io.quant4j.testing.MutableCopy;
import io.quant4j.testing.Shared;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Random;

import static io.quant4j.model.GgufFuzzTest.le32;
import static io.quant4j.model.GgufFuzzTest.spread;
import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

/** Damaged copies of stories260K.bin through ModelLoader (llama2.c has no magic: its header is all there is to check). */
class Llama2cFuzzTest {
    private static final Duration LIMIT = Duration.ofSeconds(30);
    private static final String[] FIELDS = {"dim", "hidden_dim", "n_layers", "n_heads", "n_kv_heads", "vocab_size", "seq_len"};

    @TempDir
    Path tmp;

    @Test
    void truncatedAtEveryHeaderOffsetAndThroughTheData() {
        MutableCopy copy = new MutableCopy(Shared.file("models/stories260K/stories260K.bin"), tmp.resolve("trunc.bin"));
        LoadOutcomes out = new LoadOutcomes();
        assertTimeoutPreemptively(LIMIT, () -> {
            int[] cuts = spread(28, copy.size(), 64);
            for (int i = cuts.length - 1; i >= 0; i--) {
                copy.shrinkTo(cuts[i]);
                out.check("truncated to " + cuts[i], copy.path(), () -> ModelLoader.loadWeights(copy.path()));
            }
            for (int n = 27; n >= 0; n--) {
                copy.shrinkTo(n);
                out.check("truncated to " + n, copy.path(), () -> ModelLoader.loadWeights(copy.path()));
            }
        }, out::current);
        assertThat(out.loaded()).isZero();
    }

    @Test
    void absurdHeaderValues() {
        MutableCopy copy = new MutableCopy(Shared.file("models/stories260K/stories260K.bin"), tmp.resolve("absurd.bin"));
        int[] values = {0, -1, 1, 2, Integer.MAX_VALUE, Integer.MIN_VALUE, 1 << 30, 0x616b3432, 512, -512, 65536, 8, 4, 172};
        LoadOutcomes out = new LoadOutcomes();
        assertTimeoutPreemptively(LIMIT, () -> {
            for (int f = 0; f < FIELDS.length; f++) {
                for (int v : values) {
                    copy.patch(4 * f, le32(v));
                    out.check(FIELDS[f] + " = " + v, copy.path(), () -> ModelLoader.loadWeights(copy.path()));
                }
            }
            copy.unpatch();
        }, out::current);
        assertThat(out.rejected()).isGreaterThan(80);
        assertThat(out.loaded()).isPositive(); // e.g. the same value written back, or a different seq_len-free field
    }

    @Test
    void randomDamage() {
        MutableCopy copy = new MutableCopy(Shared.file("models/stories260K/stories260K.bin"), tmp.resolve("flip.bin"));
        Random random = new Random(3);
        LoadOutcomes out = new LoadOutcomes();
        assertTimeoutPreemptively(LIMIT, () -> {
            for (int i = 0; i < 150; i++) {
                // mostly the header; a few in the weights, which must still load (floats have no invalid values)
                int pos = i % 10 == 9 ? 28 + random.nextInt(copy.size() - 32) : random.nextInt(28);
                byte[] patch = i % 2 == 0 ? new byte[]{(byte) (copy.original()[pos] ^ (1 << random.nextInt(8)))} : le32(random.nextInt());
                copy.patch(pos, patch);
                out.check("case " + i + ": " + patch.length + " bytes at " + pos, copy.path(), () -> ModelLoader.loadWeights(copy.path()));
            }
            copy.unpatch();
        }, out::current);
        assertThat(out.rejected()).isPositive();
        assertThat(out.loaded()).isPositive();
    }
}
