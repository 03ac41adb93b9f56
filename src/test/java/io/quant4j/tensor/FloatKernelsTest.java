package io.quant4j.tensor;

import org.junit.jupiter.api.RepeatedTest;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.SplittableRandom;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

/** Vector API float kernels against their scalar references, on random data of odd lengths. */
class FloatKernelsTest {
    private static final SplittableRandom SEEDS = new SplittableRandom(42);

    @RepeatedTest(20)
    void vectorDotAndAxpyMatchScalar() {
        SplittableRandom r = SEEDS.split();
        int n = 1 + r.nextInt(300);
        float[] a = random(r, n + 3);
        float[] b = random(r, n + 5);
        double scale = sumAbs(a, 3, b, 5, n);
        assertThat(VectorKernels.dot(a, 3, b, 5, n)).isCloseTo(VectorKernels.dotScalar(a, 3, b, 5, n), within((float) (1e-5 * scale + 1e-6)));
        float[] y1 = random(r, n);
        float[] y2 = y1.clone();
        VectorKernels.axpy(0.37f, a, 3, y1, 0, n);
        for (int i = 0; i < n; i++) {
            y2[i] += 0.37f * a[3 + i];
        }
        for (int i = 0; i < n; i++) {
            assertThat(y1[i]).isCloseTo(y2[i], within(1e-5f));
        }
    }

    @RepeatedTest(10)
    void f32AndF16MatricesMatchScalarReferences() {
        SplittableRandom r = SEEDS.split();
        int rows = 1 + r.nextInt(9);
        int cols = 1 + r.nextInt(700);
        float[] w = random(r, rows * cols);
        float[] x = random(r, cols);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment f32 = arena.allocate(4L * w.length);
            MemorySegment f16 = arena.allocate(2L * w.length);
            for (int i = 0; i < w.length; i++) {
                f32.setAtIndex(ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), i, w[i]);
                f16.setAtIndex(ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), i, Fp16.fromFloat(w[i]));
            }
            WeightMatrix m32 = WeightMatrix.of(GgmlType.F32, f32, rows, cols);
            WeightMatrix m16 = WeightMatrix.of(GgmlType.F16, f16, rows, cols);
            for (int row = 0; row < rows; row++) {
                double scale = sumAbs(w, row * cols, x, 0, cols);
                float ref32 = F32Matrix.dotScalar(f32, 4L * row * cols, x, 0, cols);
                float ref16 = F16Matrix.dotScalar(f16, 2L * row * cols, x, 0, cols);
                assertThat(m32.dot(row, x, 0)).isCloseTo(ref32, within((float) (1e-5 * scale + 1e-6)));
                assertThat(m16.dot(row, x, 0)).isCloseTo(ref16, within((float) (1e-5 * scale + 1e-6)));
            }
        }
    }

    private static float[] random(SplittableRandom r, int n) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) {
            a[i] = (float) (r.nextDouble() * 2 - 1);
        }
        return a;
    }

    private static double sumAbs(float[] a, int ao, float[] b, int bo, int n) {
        double s = 0;
        for (int i = 0; i < n; i++) {
            s += Math.abs((double) a[ao + i] * b[bo + i]);
        }
        return s;
    }
}
