package io.quant4j.tensor.quant;

import io.quant4j.format.gguf.GgufFile;
import io.quant4j.format.gguf.GgufTensorInfo;
import io.quant4j.tensor.GgmlType;
import io.quant4j.testing.Shared;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Byte-for-byte parity with llama.cpp: every tensor of the golden {@code synth-pure-*} and {@code synth-mix-*}
 * files, re-quantized from {@code synth-f32.gguf} with the type the golden file gives it, must equal the
 * golden bytes (see ../shared/golden/README.md).
 */
class GoldenQuantizationTest {
    private static GgufFile source;

    @BeforeAll
    static void open() {
        source = GgufFile.open(Shared.file("golden/quant/synth-f32.gguf"));
    }

    @AfterAll
    static void close() {
        if (source != null) {
            source.close();
        }
    }

    @TestFactory
    Stream<DynamicTest> everyGoldenTensorMatchesByteForByte() throws IOException {
        Path dir = Shared.file("golden/quant");
        List<Path> files;
        try (Stream<Path> s = Files.list(dir)) {
            files = s.filter(p -> p.getFileName().toString().matches("synth-(pure|mix)-.*\\.gguf")).sorted().toList();
        }
        assertThat(files).hasSizeGreaterThanOrEqualTo(17);
        return files.stream().map(p -> DynamicTest.dynamicTest(p.getFileName().toString(), () -> checkFile(p)));
    }

    private static void checkFile(Path golden) {
        List<String> mismatches = new ArrayList<>();
        int compared = 0;
        try (GgufFile g = GgufFile.open(golden)) {
            for (GgufTensorInfo want : g.tensors().values()) {
                GgufTensorInfo in = source.tensor(want.name());
                assertThat(in.type()).isEqualTo(GgmlType.F32);
                assertThat(in.shape()).isEqualTo(want.shape());
                String problem = compare(in, want, g.data(want));
                compared++;
                if (problem != null) {
                    mismatches.add(problem);
                }
            }
        }
        assertThat(compared).isGreaterThanOrEqualTo(21);
        if (!mismatches.isEmpty()) {
            fail(golden.getFileName() + ": " + mismatches.size() + " tensors differ:\n" + String.join("\n", mismatches));
        }
    }

    /** Null when equal, else a description of the first differing block. */
    private static String compare(GgufTensorInfo in, GgufTensorInfo want, MemorySegment wantData) {
        int cols = (int) in.rowLength();
        int rows = (int) in.rowCount();
        float[] x = source.data(in).toArray(ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(java.nio.ByteOrder.LITTLE_ENDIAN));
        GgmlType type = want.type();
        long rowBytes = type.byteSize(cols);
        byte[] got = new byte[Math.toIntExact(rowBytes * rows)];
        RowCodecs.quantizeRows(type, x, rows, cols, MemorySegment.ofArray(got), null);
        byte[] exp = wantData.asSlice(0, got.length).toArray(ValueLayout.JAVA_BYTE);
        long mismatch = MemorySegment.mismatch(MemorySegment.ofArray(got), 0, got.length, MemorySegment.ofArray(exp), 0, exp.length);
        if (mismatch < 0) {
            return null;
        }
        int bytesPerBlock = type.bytesPerBlock;
        long block = mismatch / bytesPerBlock;
        int differingBlocks = 0;
        for (int b = 0; b < got.length / bytesPerBlock; b++) {
            if (MemorySegment.mismatch(MemorySegment.ofArray(got), (long) b * bytesPerBlock, (long) (b + 1) * bytesPerBlock,
                    MemorySegment.ofArray(exp), (long) b * bytesPerBlock, (long) (b + 1) * bytesPerBlock) >= 0) {
                differingBlocks++;
            }
        }
        return "  " + want.name() + " " + type + ": first difference at byte " + mismatch + " (row " + mismatch / rowBytes
                + ", block " + block + ", offset in block " + mismatch % bytesPerBlock + "); " + differingBlocks + " of "
                + got.length / bytesPerBlock + " blocks differ";
    }
}
