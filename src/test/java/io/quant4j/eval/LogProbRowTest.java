package io.quant4j.eval;

import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

class LogProbRowTest {

    private static double exactLogProb(float[] logits, int i) {
        return LogSoftmax.logProb(logits, i);
    }

    @Test
    void storedLogProbsAreWithinHalfAStepInsideTheWindow() {
        Random r = new Random(1);
        float[] logits = new float[501];
        for (int i = 0; i < logits.length; i++) {
            logits[i] = (float) (r.nextGaussian() * 4);
        }
        LogProbRow row = new LogProbRow(logits.length);
        double nll = row.encode(logits, 7);
        assertThat(nll).isCloseTo(-exactLogProb(logits, 7), within(1e-5));
        float max = Float.NEGATIVE_INFINITY;
        for (float l : logits) {
            max = Math.max(max, l);
        }
        for (int i = 0; i < logits.length; i++) {
            if (logits[i] > max - LogProbRow.WINDOW) {
                assertThat((double) row.logProb(i)).isCloseTo(exactLogProb(logits, i), within(row.scale() / 2 + 1e-5));
            } else {
                assertThat(row.level(i)).isZero();
                assertThat(row.logProb(i)).isEqualTo(row.minLogProb());
            }
        }
        assertThat(row.scale()).isCloseTo(16f / 65535f, within(1e-9f));
    }

    @Test
    void narrowRangeUsesTheFullScaleAndFlatLogitsStoreScaleZero() {
        float[] logits = {1f, 2f, 3f};
        LogProbRow row = new LogProbRow(3);
        row.encode(logits, 0);
        assertThat(row.level(0)).isZero();
        assertThat(row.level(2)).isEqualTo(65535);
        assertThat((double) row.logProb(2)).isCloseTo(exactLogProb(logits, 2), within(1e-5));

        float[] flat = {0.5f, 0.5f, 0.5f, 0.5f};
        LogProbRow f = new LogProbRow(4);
        double nll = f.encode(flat, 3);
        assertThat(f.scale()).isZero();
        assertThat(nll).isCloseTo(Math.log(4), within(1e-6));
        assertThat((double) f.logProb(1)).isCloseTo(-Math.log(4), within(1e-6));
    }
}
