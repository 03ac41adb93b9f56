package io.quant4j.quantize.gptq;

import io.quant4j.tensor.gptq.GptqLayer;
import io.quant4j.tensor.gptq.GptqPacking;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * Packs a {@link QuantizedLinear} into AutoGPTQ's tensors (qlinear pack(): codes along the input dimension, zeros
 * along the output dimension, least significant bits first). The v1 format stores zero − 1 (the historic offset),
 * so a zero point of 0 — possible only with asymmetric grids — cannot be stored; v2 stores the zero itself.
 */
public final class GptqPacker {
    private static final ValueLayout.OfShort F16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private GptqPacker() {
    }

    public static GptqLayer pack(QuantizedLinear q, boolean v1, Arena arena) {
        int n = q.rows();
        int k = q.cols();
        int bits = q.bits();
        int offset = v1 ? 1 : 0;
        int wordsK = GptqPacking.words(k, bits);
        int[] qweight = new int[wordsK * n];
        for (int r = 0; r < n; r++) {
            for (int c = 0; c < k; c++) {
                GptqPacking.insert(qweight, r, n, c, bits, q.code(r, c));
            }
        }
        int wordsN = GptqPacking.words(n, bits);
        int[] qzeros = new int[q.groups() * wordsN];
        for (int g = 0; g < q.groups(); g++) {
            for (int r = 0; r < n; r++) {
                int z = q.zero(g, r) - offset;
                if (z < 0) {
                    throw new IllegalStateException("a zero point of 0 cannot be stored in the v1 (gptq) format; use gptq_v2");
                }
                GptqPacking.insert(qzeros, g * wordsN, 1, r, bits, z);
            }
        }
        MemorySegment qw = arena.allocate(4L * qweight.length, 64);
        MemorySegment.copy(qweight, 0, qw, GptqPacking.I32, 0, qweight.length);
        MemorySegment qz = arena.allocate(4L * qzeros.length, 64);
        MemorySegment.copy(qzeros, 0, qz, GptqPacking.I32, 0, qzeros.length);
        MemorySegment sc = arena.allocate(2L * q.scales().length, 64);
        MemorySegment.copy(q.scales(), 0, sc, F16, 0, q.scales().length);
        return new GptqLayer(bits, n, k, q.groups(), qw, qz, sc, q.gIdx().clone(), offset);
    }
}
