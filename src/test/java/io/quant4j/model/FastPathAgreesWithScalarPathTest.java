package io.quant4j.model;

import io.quant4j.cli.Main;
import io.quant4j.testing.Shared;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The Vector API kernels, batched prefill and vectorized attention against the scalar references: stories260K's
 * greedy token ids must be identical (bit for bit) and its logits close, for the F32 model and a Q4_K_M mix of it
 * (Q5_0/Q5_1/Q8_0/Q4_K/Q6_K/F16 tensors), with F32 and F16 KV caches. The scalar side runs in a child JVM with
 * {@code -Dquant4j.simd=false}, since the switch is read once per JVM.
 *
 * <p>Stated tolerance: every logit within 2e-4 of the scalar path's, relative to the largest logit magnitude of that
 * position. The paths differ in summation order (vector lanes, block sums for offsets, 512-column panels) and in exp
 * (2 ulps), so bit equality of logits is not expected.
 */
class FastPathAgreesWithScalarPathTest {
    private static final int N = 60;

    @TempDir
    static Path dir;
    static Path f32;
    static Path q4km;

    @BeforeAll
    static void models() {
        f32 = Shared.file("models/stories260K/stories260K.gguf");
        q4km = dir.resolve("q4km.gguf");
        StringWriter sink = new StringWriter();
        int rc = Main.run(new String[] {"quantize", f32.toString(), q4km.toString(), "Q4_K_M"}, new PrintWriter(sink), new PrintWriter(sink));
        assertThat(rc).as(sink.toString()).isZero();
    }

    @ParameterizedTest
    @CsvSource({"f32,false", "f32,true", "q4km,false", "q4km,true"})
    void greedyIdsIdenticalAndLogitsClose(String which, boolean f16Cache) throws Exception {
        Path model = which.equals("f32") ? f32 : q4km;
        GreedyTrace.Trace fast = GreedyTrace.run(model, N, true, f16Cache);
        GreedyTrace.Trace fastStepwise = GreedyTrace.run(model, N, false, f16Cache);
        List<String> scalar = childJvm(model, f16Cache);

        // The scalar child prints its batched-prompt trace, then its token-by-token one; each fast trace is held to
        // the scalar trace of the same shape (a prompt fed token by token takes the decode kernels, which multiply
        // Q4_0/Q8_0/Q4_K/Q6_K rows with int8 activations; the batched prompt multiplies dequantized panels).
        compare(fast, scalar.subList(0, 1 + GreedyTrace.LOGIT_ROWS), "batched prompt");
        compare(fastStepwise, scalar.subList(1 + GreedyTrace.LOGIT_ROWS, 2 + 2 * GreedyTrace.LOGIT_ROWS), "token-by-token prompt");
        assertThat(fastStepwise.tokens()).as("token-by-token vs batched prompt").containsExactly(fast.tokens());
    }

    private static void compare(GreedyTrace.Trace fast, List<String> scalar, String what) {
        int[] scalarIds = java.util.Arrays.stream(scalar.get(0).split(" ")).mapToInt(Integer::parseInt).toArray();
        assertThat(fast.tokens()).as(what + " vs scalar").containsExactly(scalarIds);
        for (int r = 0; r < GreedyTrace.LOGIT_ROWS; r++) {
            String[] parts = scalar.get(1 + r).split(" ");
            float[] ref = new float[parts.length];
            float max = 0;
            for (int j = 0; j < parts.length; j++) {
                ref[j] = Float.parseFloat(parts[j]);
                max = Math.max(max, Math.abs(ref[j]));
            }
            for (int j = 0; j < ref.length; j++) {
                assertThat(Math.abs(fast.logits()[r][j] - ref[j])).as("%s position %d logit %d", what, r, j).isLessThanOrEqualTo(2e-4f * max);
            }
        }
    }

    private static List<String> childJvm(Path model, boolean f16Cache) throws IOException, InterruptedException {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        List<String> cmd = new ArrayList<>(List.of(java, "--add-modules", "jdk.incubator.vector", "-Dquant4j.simd=false",
                "-cp", System.getProperty("java.class.path"), GreedyTrace.class.getName(), model.toString(), String.valueOf(N),
                String.valueOf(f16Cache)));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(false).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor()).as(err).isZero();
        return out.lines().toList();
    }
}
