package io.quant4j.tensor.bnb;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

/**
 * The Vector API kernels of the 4-bit layout against their scalar references on random rows: odd column counts
 * (rows starting on a low nibble), blocks that start mid-row and on odd positions, block sizes that are not a
 * multiple of 16, plain and double-quantized absmax, NF4 and FP4 code books, a row map.
 */
class Blockwise4bitMatrixTest {
    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private static Blockwise4bitMatrix random(Random r, Arena arena, String type, boolean doubleQuant, int rows, int cols, int blocksize,
                                              boolean rowMap) {
        long n = (long) rows * cols;
        MemorySegment packed = arena.allocate((n + 1) / 2);
        for (long i = 0; i < packed.byteSize(); i++) {
            packed.set(ValueLayout.JAVA_BYTE, i, (byte) r.nextInt(256));
        }
        int blocks = (int) Math.ceilDiv(n, blocksize);
        Blockwise4bitMatrix.Absmax absmax;
        if (doubleQuant) {
            MemorySegment codes = arena.allocate(blocks);
            for (int b = 0; b < blocks; b++) {
                codes.set(ValueLayout.JAVA_BYTE, b, (byte) r.nextInt(256));
            }
            int nested = Math.ceilDiv(blocks, 256);
            MemorySegment nestedAbsmax = arena.allocate(4L * nested);
            for (int b = 0; b < nested; b++) {
                nestedAbsmax.set(F32, 4L * b, 0.01f + r.nextFloat() * 0.05f);
            }
            absmax = Blockwise4bitMatrix.Absmax.doubleQuantized(codes, BnbCodes.dynamicMap(), nestedAbsmax, 256, 0.07f);
        } else {
            MemorySegment values = arena.allocate(4L * blocks);
            for (int b = 0; b < blocks; b++) {
                values.set(F32, 4L * b, r.nextFloat() * 0.1f);
            }
            absmax = Blockwise4bitMatrix.Absmax.plain(values);
        }
        int[] rowOf = null;
        if (rowMap) {
            rowOf = new int[rows];
            for (int i = 0; i < rows; i++) {
                rowOf[i] = (i * 5 + 3) % rows;
            }
        }
        return new Blockwise4bitMatrix(type, BnbCodes.fourBit(type), blocksize, packed, absmax, rows, cols, rowOf);
    }

    @ParameterizedTest
    @CsvSource({
            "nf4, false, 6, 2048, 64, false",
            "nf4, true, 6, 2048, 64, false",
            "fp4, false, 6, 2048, 64, false",
            "fp4, true, 6, 2048, 64, false",
            "nf4, false, 9, 333, 64, true",
            "nf4, true, 9, 333, 64, false",
            "fp4, false, 9, 333, 64, false",
            "fp4, true, 9, 333, 64, true",
            "nf4, false, 7, 100, 32, false",
            "nf4, true, 5, 4101, 4096, false",
            "fp4, false, 11, 77, 37, false",
            "nf4, true, 11, 203, 40, true",
            "nf4, false, 3, 9, 64, false",
            "fp4, false, 13, 1, 32, false",
    })
    void vectorKernelsMatchTheScalarReference(String type, boolean doubleQuant, int rows, int cols, int blocksize, boolean rowMap) {
        Random r = new Random(31L * cols + blocksize + (doubleQuant ? 1 : 0) + type.hashCode());
        try (Arena arena = Arena.ofConfined()) {
            Blockwise4bitMatrix m = random(r, arena, type, doubleQuant, rows, cols, blocksize, rowMap);
            float[] code = m.code();
            int[] bits = new int[16];
            for (int k = 0; k < 16; k++) {
                bits[k] = Float.floatToRawIntBits(code[k]);
            }
            int xOffset = 5;
            float[] x = new float[cols + xOffset + 3];
            for (int j = 0; j < x.length; j++) {
                x[j] = (float) (r.nextGaussian() * (j % 29 == 0 ? 20 : 1));
            }
            float[] fast = new float[cols + 2];
            float[] ref = new float[cols + 2];
            float[] mv = new float[rows];
            float[] shifted = new float[cols + xOffset];
            System.arraycopy(x, xOffset, shifted, 0, cols);
            m.matVec(shifted, mv, 0, rows);
            for (int i = 0; i < rows; i++) {
                m.dequantizeRow(i, fast, 1);
                m.dequantizeRowScalar(i, ref, 1);
                assertThat(fast).as("row %d dequantized", i).containsExactly(ref);
                double mag = 0;
                for (int j = 0; j < cols; j++) {
                    mag += Math.abs(ref[1 + j] * x[xOffset + j]);
                }
                float scalar = m.dotScalar(i, x, xOffset);
                // the kernels themselves, whatever -Dquant4j.simd says
                long base = (long) (rowMap ? (i * 5 + 3) % rows : i) * cols;
                float[] direct = new float[cols + 2];
                Blockwise4bitMatrix.dequantVector(m.packed(), bits, code, m.absmax(), blocksize, base, cols, direct, 1);
                assertThat(direct).as("row %d dequantVector", i).containsExactly(ref);
                double tol = 1e-5 * mag + 1e-30;
                assertThat((double) m.dot(i, x, xOffset)).as("row %d dot", i).isCloseTo(scalar, within(tol));
                assertThat((double) Blockwise4bitMatrix.dotVector(m.packed(), bits, code, m.absmax(), blocksize, base, cols, x, xOffset))
                        .as("row %d dotVector", i).isCloseTo(scalar, within(tol));
                assertThat((double) mv[i]).as("row %d matVec", i).isCloseTo(scalar, within(tol));
                // column ranges (as the prefill GEMM reads them), starting anywhere in a block
                for (int from = 0; from < cols; from += Math.max(1, cols / 5)) {
                    int count = Math.min(cols - from, 1 + r.nextInt(cols));
                    float[] part = new float[count];
                    m.dequantizeRange(i, from, count, part, 0);
                    for (int j = 0; j < count; j++) {
                        assertThat(part[j]).as("row %d col %d of range from %d", i, from + j, from).isEqualTo(ref[1 + from + j]);
                    }
                }
            }
        }
    }
}
