package io.quant4j.tensor.gptq;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * AutoGPTQ's integer packing: {@code bits}-bit codes laid end to end, least significant bits first, in 32-bit
 * words. For 2, 4 and 8 bits a word holds 32/bits whole codes; for 3 bits 32 codes fill 3 words and codes 10 and 21
 * straddle a word boundary — which is the same bit stream, so one rule covers every width. {@code qweight} packs
 * along the input dimension (a column of words per output feature), {@code qzeros} along the output dimension.
 */
public final class GptqPacking {
    public static final ValueLayout.OfInt I32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private GptqPacking() {
    }

    public static boolean supportedBits(int bits) {
        return bits == 2 || bits == 3 || bits == 4 || bits == 8;
    }

    /**
     * Words holding {@code values} codes: AutoGPTQ's {@code values / 32 * bits} when values is a multiple of 32;
     * otherwise rounded up to whole 32-code runs (quant4j's padded layout for rows AutoGPTQ cannot pack).
     */
    public static int words(int values, int bits) {
        return Math.ceilDiv(values, 32) * bits;
    }

    /** Code {@code index} of a bit stream whose word {@code w} is {@code words[base + w·stride]}. */
    public static int extract(int[] words, int base, int stride, int index, int bits) {
        long bit = (long) index * bits;
        int w = (int) (bit >>> 5);
        int off = (int) (bit & 31);
        int v = words[base + w * stride] >>> off;
        if (off + bits > 32) {
            v |= words[base + (w + 1) * stride] << (32 - off);
        }
        return v & ((1 << bits) - 1);
    }

    /** The same, reading little-endian int32 words from a segment ({@code stride} in words). */
    public static int extract(MemorySegment words, long baseWord, long strideWords, int index, int bits) {
        long bit = (long) index * bits;
        long w = bit >>> 5;
        int off = (int) (bit & 31);
        int v = words.get(I32, 4 * (baseWord + w * strideWords)) >>> off;
        if (off + bits > 32) {
            v |= words.get(I32, 4 * (baseWord + (w + 1) * strideWords)) << (32 - off);
        }
        return v & ((1 << bits) - 1);
    }

    /** ORs code (masked to {@code bits}) into position {@code index} of the stream; the words must start zeroed. */
    public static void insert(int[] words, int base, int stride, int index, int bits, int code) {
        int c = code & ((1 << bits) - 1);
        long bit = (long) index * bits;
        int w = (int) (bit >>> 5);
        int off = (int) (bit & 31);
        words[base + w * stride] |= c << off;
        if (off + bits > 32) {
            words[base + (w + 1) * stride] |= c >>> (32 - off);
        }
    }
}
