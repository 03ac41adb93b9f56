package io.quant4j.tensor.quant;

import io.quant4j.tensor.GgmlType;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/** Little-endian block access and the C rounding idioms ggml-quants.c relies on. */
final class Bits {
    static final ValueLayout.OfShort I16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final ValueLayout.OfInt I32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final ValueLayout.OfLong I64 = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    /** ggml's GROUP_MAX_EPS: below this a group counts as all zero. */
    static final float GROUP_MAX_EPS = 1e-15f;

    private Bits() {
    }

    /**
     * ggml's nearest_int: adding 1.5·2^23 leaves the rounded integer in the low mantissa bits (round half to
     * even). Kept bit for bit rather than Math.rint so out-of-range inputs behave like the C code too.
     */
    static int nearestInt(float f) {
        float v = f + 12582912.f;
        return (Float.floatToRawIntBits(v) & 0x007fffff) - 0x00400000;
    }

    /** C roundf: half away from zero (Math.round would take -2.5 to -2). */
    static float roundf(float x) {
        return (float) (x < 0 ? -Math.floor(-(double) x + 0.5) : Math.floor((double) x + 0.5));
    }

    /** C's float→int8_t conversion as x86-64 compilers emit it: truncate to int32, keep the low byte. */
    static int toInt8(float x) {
        return (byte) (int) x;
    }

    /** (float) sqrtf(x): the double square root rounded once to float is the correctly rounded result. */
    static float sqrtf(float x) {
        return (float) Math.sqrt(x);
    }

    /**
     * GGML_FP32_TO_FP16: round to nearest even; every NaN becomes sign | 0x7E00 as in ggml's converter
     * (Float.floatToFloat16 would keep payload bits).
     */
    static short fp16(float f) {
        if (Float.isNaN(f)) {
            return (short) ((Float.floatToRawIntBits(f) >>> 16) & 0x8000 | 0x7E00);
        }
        return Float.floatToFloat16(f);
    }

    static void putF16(byte[] b, int off, float f) {
        putI16(b, off, fp16(f));
    }

    static float getF16(byte[] b, int off) {
        return Float.float16ToFloat((short) ((b[off] & 0xFF) | b[off + 1] << 8));
    }

    static void putI16(byte[] b, int off, int v) {
        b[off] = (byte) v;
        b[off + 1] = (byte) (v >>> 8);
    }

    static void putI32(byte[] b, int off, int v) {
        b[off] = (byte) v;
        b[off + 1] = (byte) (v >>> 8);
        b[off + 2] = (byte) (v >>> 16);
        b[off + 3] = (byte) (v >>> 24);
    }

    static int getI32(byte[] b, int off) {
        return (b[off] & 0xFF) | (b[off + 1] & 0xFF) << 8 | (b[off + 2] & 0xFF) << 16 | (b[off + 3] & 0xFF) << 24;
    }

    static void store(byte[] block, MemorySegment dst, long off) {
        MemorySegment.copy(block, 0, dst, ValueLayout.JAVA_BYTE, off, block.length);
    }

    static void load(MemorySegment src, long off, byte[] block) {
        MemorySegment.copy(src, ValueLayout.JAVA_BYTE, off, block, 0, block.length);
    }

    static int blocks(GgmlType type, int n) {
        if (n < 0 || n % type.blockSize != 0) {
            throw new IllegalArgumentException(type + ": row length " + n + " is not a multiple of " + type.blockSize);
        }
        return n / type.blockSize;
    }

    static void checkImportance(float[] importance, int n) {
        if (importance != null && importance.length < n) {
            throw new IllegalArgumentException("importance has " + importance.length + " weights for a row of " + n);
        }
    }
}
