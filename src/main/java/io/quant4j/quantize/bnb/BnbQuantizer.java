package io.quant4j.quantize.bnb;

import io.quant4j.tensor.bnb.BnbCodes;
import io.quant4j.tensor.bnb.Blockwise4bitMatrix;
import io.quant4j.tensor.bnb.Int8Matrix;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * bitsandbytes' weight quantizers, from the reference math (bitsandbytes functional.py / backends default ops).
 * 4-bit: blocks of the flattened weight, absmax per block, each value x/absmax mapped to the nearest code-book value,
 * packed two per byte (first value in the high nibble). Double quantization: the absmax values minus their mean are
 * quantized blockwise (256 per block) with the signed dynamic 8-bit map. LLM.int8: per-row absmax, round(w·127/absmax).
 */
public final class BnbQuantizer {
    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private BnbQuantizer() {
    }

    /** 4-bit quantization of a row-major [rows × cols] weight (stored order); {@code rowOf} as in the matrix. */
    public static Blockwise4bitMatrix fourBit(float[] w, int rows, int cols, BnbOptions o, int[] rowOf, Arena arena) {
        float[] code = BnbCodes.fourBit(o.quantType());
        int n = w.length;
        int blocks = Math.ceilDiv(n, o.blocksize());
        float[] absmax = new float[blocks];
        MemorySegment packed = arena.allocate((n + 1) / 2, 16);
        boolean fp4 = o.quantType().equals("fp4");
        for (int b = 0; b < blocks; b++) {
            int from = b * o.blocksize();
            int to = Math.min(n, from + o.blocksize());
            float a = 0f;
            for (int i = from; i < to; i++) {
                a = Math.max(a, Math.abs(w[i]));
            }
            absmax[b] = a;
            float inv = a > 0 ? 1f / a : 0f;
            for (int i = from; i < to; i++) {
                int q = fp4 ? nearestFp4(w[i] * inv, code) : nearest(w[i] * inv, code);
                long byteIndex = i >>> 1;
                int old = packed.get(ValueLayout.JAVA_BYTE, byteIndex) & 0xFF;
                int value = (i & 1) == 0 ? (old & 0x0F) | (q << 4) : (old & 0xF0) | q;
                packed.set(ValueLayout.JAVA_BYTE, byteIndex, (byte) value);
            }
        }
        Blockwise4bitMatrix.Absmax scales = o.doubleQuant() ? doubleQuantize(absmax, arena) : Blockwise4bitMatrix.Absmax.plain(floats(absmax, arena));
        return new Blockwise4bitMatrix(o.quantType(), code, o.blocksize(), packed, scales, rows, cols, rowOf);
    }

    /** absmax − mean(absmax), blockwise with the dynamic map; the mean is the offset added back when decoding. */
    static Blockwise4bitMatrix.Absmax doubleQuantize(float[] absmax, Arena arena) {
        float[] map = BnbCodes.dynamicMap();
        double sum = 0;
        for (float a : absmax) {
            sum += a;
        }
        float offset = (float) (sum / absmax.length);
        int nb = BnbOptions.NESTED_BLOCKSIZE;
        int blocks = Math.ceilDiv(absmax.length, nb);
        float[] nested = new float[blocks];
        MemorySegment codes = arena.allocate(absmax.length, 16);
        for (int b = 0; b < blocks; b++) {
            int from = b * nb;
            int to = Math.min(absmax.length, from + nb);
            float a = 0f;
            for (int i = from; i < to; i++) {
                a = Math.max(a, Math.abs(absmax[i] - offset));
            }
            nested[b] = a;
            float inv = a > 0 ? 1f / a : 0f;
            for (int i = from; i < to; i++) {
                codes.set(ValueLayout.JAVA_BYTE, i, (byte) nearest((absmax[i] - offset) * inv, map));
            }
        }
        return Blockwise4bitMatrix.Absmax.doubleQuantized(codes, map, floats(nested, arena), nb, offset);
    }

    /** Index of the code value nearest to x (the code sorted ascending); ties go to the lower value. */
    static int nearest(float x, float[] code) {
        int lo = 0;
        int hi = code.length - 1;
        while (hi - lo > 1) {
            int mid = (lo + hi) >>> 1;
            if (code[mid] <= x) {
                lo = mid;
            } else {
                hi = mid;
            }
        }
        return Math.abs(x - code[lo]) <= Math.abs(code[hi] - x) ? lo : hi;
    }

    /** FP4 codes are listed by bit pattern: the nearest magnitude among the first 8, with bit 3 as the sign. */
    static int nearestFp4(float x, float[] code) {
        float a = Math.abs(x);
        int best = 0;
        for (int i = 1; i < 8; i++) {
            if (Math.abs(code[i] - a) < Math.abs(code[best] - a)) {
                best = i;
            }
        }
        return x < 0 ? best | 8 : best;
    }

    /** LLM.int8 weights: SCB = max|row|, CB = round(w · 127 / SCB). */
    public static Int8Matrix int8(float[] w, int rows, int cols, float threshold, int[] rowOf, Arena arena) {
        MemorySegment cb = arena.allocate((long) rows * cols, 16);
        float[] scb = new float[rows];
        for (int r = 0; r < rows; r++) {
            float a = 0f;
            for (int j = 0; j < cols; j++) {
                a = Math.max(a, Math.abs(w[r * cols + j]));
            }
            scb[r] = a;
            float inv = a > 0 ? 127f / a : 0f;
            for (int j = 0; j < cols; j++) {
                cb.set(ValueLayout.JAVA_BYTE, (long) r * cols + j, (byte) Math.rint(w[r * cols + j] * inv));
            }
        }
        return new Int8Matrix(cb, floats(scb, arena), rows, cols, threshold, rowOf);
    }

    static MemorySegment floats(float[] v, Arena arena) {
        MemorySegment s = arena.allocate(4L * v.length, 16);
        MemorySegment.copy(v, 0, s, F32, 0, v.length);
        return s;
    }
}
