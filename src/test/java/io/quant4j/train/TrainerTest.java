package io.quant4j.train;

import io.quant4j.model.LlamaConfig;
import io.quant4j.model.LlamaWeights;
import io.quant4j.peft.Projection;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Random;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.data.Offset.offset;

class TrainerTest {
    private final LlamaConfig config = TinyLlamas.config(16, 24, 2, 4, 2, 20);
    private final LlamaWeights weights = TinyLlamas.weights(config, 7);

    @TempDir
    Path dir;

    private List<TrainingExample> data(int n, long seed) {
        Random r = new Random(seed);
        List<TrainingExample> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            // a learnable pattern: counting up modulo the vocabulary from a random start
            int len = 6 + r.nextInt(5);
            int start = r.nextInt(20);
            int[] tokens = new int[len];
            boolean[] targets = new boolean[len];
            for (int t = 0; t < len; t++) {
                tokens[t] = (start + t) % 20;
                targets[t] = t >= 2;
            }
            out.add(new TrainingExample(tokens, targets));
        }
        return out;
    }

    private TrainingOptions options(int micro, int accumulation, long steps, long saveSteps) {
        return new TrainingOptions(micro, accumulation, 1, steps, 1e-2, LrSchedule.COSINE, 0.1, -1,
                new AdamW.Settings(0.9, 0.999, 1e-8, 0.01), 1.0, 42, 5, saveSteps, 0, 1);
    }

    private TrainableLlama lora() {
        LoraSettings lora = new LoraSettings(4, 8, 0.1, EnumSet.allOf(Projection.class), null);
        return TrainableLlama.build(config, weights, TrainingPlan.lora(lora, Set.of("lm_head.weight")), 3);
    }

    private Trainer.Result train(TrainableLlama model, TrainingOptions o, Path out, boolean resume, StringWriter log) {
        return new Trainer(model, o, data(24, 1), data(6, 2), out, d -> { }, new PrintWriter(log, true)).run(resume);
    }

    @Test
    void lossFallsAndTheCurvesAreWritten() throws Exception {
        StringWriter log = new StringWriter();
        Trainer.Result r = train(lora(), options(2, 2, 40, 0), dir, false, log);
        List<String> eval = Files.readAllLines(dir.resolve("eval_log.csv"));
        double first = Double.parseDouble(eval.get(1).split(",")[2]);
        assertThat(r.lastValLoss()).isLessThan(first * 0.7);
        assertThat(Files.readAllLines(dir.resolve("train_log.csv"))).hasSize(41).first().asString().startsWith("step,epoch,loss");
        assertThat(Files.readString(dir.resolve("loss_curve.svg"))).startsWith("<svg").contains("polyline");
        assertThat(log.toString()).contains("step 40/40").contains("tok/s").contains("ETA").contains("eval step 40: val_loss");
    }

    @Test
    void resumingFromACheckpointContinuesExactlyAsAnUninterruptedRun() {
        TrainableLlama straight = lora();
        train(straight, options(2, 1, 6, 0), dir.resolve("straight"), false, new StringWriter());

        Path out = dir.resolve("interrupted");
        // a run that saves a checkpoint at step 3, then a second run resuming from it
        TrainableLlama interrupted = lora();
        train(interrupted, options(2, 1, 6, 3), out, false, new StringWriter());
        assertThat(Files.isDirectory(out.resolve("checkpoint-3"))).isTrue();
        for (int i = 0; i < straight.parameters().size(); i++) {
            assertThat(interrupted.parameters().get(i).value()).as("uninterrupted " + straight.parameters().get(i).name())
                    .containsExactly(straight.parameters().get(i).value());
        }
        TrainableLlama resumed = lora();
        StringWriter log = new StringWriter();
        train(resumed, options(2, 1, 6, 3), out, true, log);
        assertThat(log.toString()).contains("resuming from").contains("step 3 of 6");
        for (int i = 0; i < straight.parameters().size(); i++) {
            assertThat(resumed.parameters().get(i).value()).as(straight.parameters().get(i).name())
                    .containsExactly(straight.parameters().get(i).value());
        }
    }

    @Test
    void accumulationAndMicroBatchesNormalizeByTheStepsTargetTokens() {
        TrainableLlama a = lora();
        TrainableLlama b = lora();
        TrainingOptions twoByOne = new TrainingOptions(2, 1, 1, 4, 1e-2, LrSchedule.CONSTANT, 0, -1, AdamW.Settings.DEFAULT, 0, 5, 0, 0, 0, 1);
        TrainingOptions oneByTwo = new TrainingOptions(1, 2, 1, 4, 1e-2, LrSchedule.CONSTANT, 0, -1, AdamW.Settings.DEFAULT, 0, 5, 0, 0, 0, 1);
        new Trainer(a, twoByOne, data(16, 1), List.of(), dir.resolve("a"), d -> { }, new PrintWriter(new StringWriter())).run(false);
        new Trainer(b, oneByTwo, data(16, 1), List.of(), dir.resolve("b"), d -> { }, new PrintWriter(new StringWriter())).run(false);
        for (int i = 0; i < a.parameters().size(); i++) {
            double[] va = a.parameters().get(i).value();
            double[] vb = b.parameters().get(i).value();
            for (int j = 0; j < va.length; j++) {
                assertThat(va[j]).isCloseTo(vb[j], offset(1e-12));
            }
        }
    }

    @Test
    void schedulesAsTransformersDefinesThem() {
        assertThat(LrSchedule.warmupSteps(0.03, 100)).isEqualTo(3);
        assertThat(LrSchedule.LINEAR.factor(0, 10, 110)).isZero();
        assertThat(LrSchedule.LINEAR.factor(5, 10, 110)).isEqualTo(0.5);
        assertThat(LrSchedule.LINEAR.factor(60, 10, 110)).isEqualTo(0.5);
        assertThat(LrSchedule.COSINE.factor(10, 10, 110)).isEqualTo(1.0);
        assertThat(LrSchedule.COSINE.factor(60, 10, 110)).isCloseTo(0.5, offset(1e-12));
        assertThat(LrSchedule.COSINE.factor(110, 10, 110)).isCloseTo(0.0, offset(1e-12));
        assertThat(LrSchedule.CONSTANT.factor(0, 10, 110)).isEqualTo(1.0);
        assertThat(LrSchedule.CONSTANT_WITH_WARMUP.factor(2, 10, 110)).isEqualTo(0.2);
    }

    @Test
    void adamwStepByHand() {
        Parameter p = Parameter.matrix("w", 1, 2);
        p.value()[0] = 1;
        p.value()[1] = -2;
        p.grad()[0] = 0.5;
        p.grad()[1] = -0.1;
        AdamW adam = new AdamW(List.of(p), new AdamW.Settings(0.9, 0.99, 1e-8, 0.1));
        adam.step(0.01);
        // first step: m̂ = g, v̂ = g², so the update is lr·g/(|g| + eps) after the decay p·(1 − lr·wd)
        assertThat(p.value()[0]).isCloseTo(1 * (1 - 0.001) - 0.01 * 0.5 / (0.5 + 1e-8), offset(1e-12));
        assertThat(p.value()[1]).isCloseTo(-2 * (1 - 0.001) + 0.01 * 0.1 / (0.1 + 1e-8), offset(1e-12));
        Parameter norm = Parameter.vector("n", 1);
        norm.value()[0] = 1;
        new AdamW(List.of(norm), new AdamW.Settings(0.9, 0.99, 1e-8, 0.1)).step(0.01);
        assertThat(norm.value()[0]).isEqualTo(1.0); // zero gradient, no decay for norms
    }

    @Test
    void clippingScalesToTheMaximumNorm() {
        Parameter p = Parameter.matrix("w", 1, 2);
        p.grad()[0] = 3;
        p.grad()[1] = 4;
        assertThat(GradientClipping.clip(List.of(p), 1.0)).isEqualTo(5.0);
        assertThat(Math.hypot(p.grad()[0], p.grad()[1])).isCloseTo(1.0, offset(1e-6));
    }
}
