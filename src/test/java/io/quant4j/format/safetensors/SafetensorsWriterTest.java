package io.quant4j.format.safetensors;

import io.quant4j.testing.Shared;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class SafetensorsWriterTest {
    @TempDir
    Path tmp;

    @Test
    void writesTheReferenceLayoutByteForByte() throws IOException {
        // One F32 [1,2,3] tensor: compact JSON, padded with spaces to a multiple of 8, then the raw floats.
        Path p = tmp.resolve("one.safetensors");
        new SafetensorsWriter().addF32("attn.0", new float[]{0, 1, 2, 3, 4, 5}, 1, 2, 3).write(p);
        String json = "{\"attn.0\":{\"dtype\":\"F32\",\"shape\":[1,2,3],\"data_offsets\":[0,24]}}";
        assertThat(json.length()).isEqualTo(64);
        ByteBuffer expected = ByteBuffer.allocate(8 + 64 + 24).order(ByteOrder.LITTLE_ENDIAN);
        expected.putLong(64).put(json.getBytes(StandardCharsets.US_ASCII));
        for (int i = 0; i < 6; i++) {
            expected.putFloat(i);
        }
        assertThat(Files.readAllBytes(p)).isEqualTo(expected.array());
    }

    @Test
    void padsHeaderWithSpacesAndPutsMetadataFirst() throws IOException {
        Path p = tmp.resolve("md.safetensors");
        new SafetensorsWriter().metadata("format", "pt").addF32("a", new float[]{1}, 1).write(p);
        byte[] bytes = Files.readAllBytes(p);
        long n = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).getLong(0);
        assertThat(n % 8).isZero();
        String header = new String(bytes, 8, (int) n, StandardCharsets.UTF_8);
        assertThat(header).startsWith("{\"__metadata__\":{\"format\":\"pt\"},\"a\":");
        assertThat(header.stripTrailing()).endsWith("}");
        assertThat(header.substring(header.stripTrailing().length())).matches(" *");
    }

    @Test
    void roundTripsMixedDtypesInLibraryOrder() throws IOException {
        Path p = tmp.resolve("mixed.safetensors");
        MemorySegment ints = Arena.ofAuto().allocate(12);
        for (int i = 0; i < 3; i++) {
            ints.setAtIndex(ValueLayout.JAVA_INT_UNALIGNED, i, 100 + i);
        }
        MemorySegment halves = Arena.ofAuto().allocate(6);
        MemorySegment bytes = Arena.ofAuto().allocate(3);
        bytes.fill((byte) 9);
        new SafetensorsWriter()
                .add("z.bytes", SafetensorsDtype.U8, new long[]{3}, bytes)
                .add("b.half", SafetensorsDtype.F16, new long[]{3}, halves)
                .add("a.half", SafetensorsDtype.F16, new long[]{1, 3}, halves)
                .add("q.ints", SafetensorsDtype.I32, new long[]{3, 1}, ints)
                .addF32("c.float", new float[]{1.5f, -2f}, 2)
                .add("empty", SafetensorsDtype.F32, new long[]{0, 4}, MemorySegment.NULL)
                .write(p);
        try (SafetensorsFile f = SafetensorsFile.open(p)) {
            // dtype alignment descending (F32 > I32 > F16 > U8 in the library's order), then name
            assertThat(f.tensors().keySet()).containsExactly("c.float", "empty", "q.ints", "a.half", "b.half", "z.bytes");
            assertThat(f.tensor("q.ints").shape()).containsExactly(3, 1);
            assertThat(f.data("q.ints").getAtIndex(ValueLayout.JAVA_INT_UNALIGNED, 2)).isEqualTo(102);
            assertThat(f.data("c.float").getAtIndex(ValueLayout.JAVA_FLOAT_UNALIGNED, 1)).isEqualTo(-2f);
            assertThat(f.data("z.bytes").toArray(ValueLayout.JAVA_BYTE)).containsExactly(9, 9, 9);
            assertThat(f.tensor("empty").byteSize()).isZero();
            for (SafetensorsTensorInfo t : f.tensors().values()) {
                assertThat((t.offset() - f.dataOffset()) % t.dtype().size).as(t.name()).isZero();
            }
        }
        assertThat(Files.list(tmp).map(x -> x.getFileName().toString())).containsExactly("mixed.safetensors");
    }

    @Test
    void rewritingTheStoriesCheckpointKeepsEveryTensorAndTheDataLayout() throws IOException {
        // That file was not written by the Python library (its metadata comes last), so compare content, not bytes.
        Path src = Shared.file("models/stories260K/hf/model.safetensors");
        Path out = tmp.resolve("copy.safetensors");
        try (SafetensorsFile f = SafetensorsFile.open(src)) {
            SafetensorsWriter w = new SafetensorsWriter();
            f.metadata().forEach(w::metadata);
            for (SafetensorsTensorInfo t : f.tensors().values()) {
                w.add(t.name(), t.dtype(), t.shape(), f.data(t));
            }
            w.write(out);
            try (SafetensorsFile g = SafetensorsFile.open(out)) {
                assertThat(g.metadata()).isEqualTo(f.metadata());
                assertThat(g.tensors().keySet()).containsExactlyElementsOf(f.tensors().keySet());
                for (SafetensorsTensorInfo t : f.tensors().values()) {
                    SafetensorsTensorInfo u = g.tensor(t.name());
                    assertThat(u.shape()).isEqualTo(t.shape());
                    assertThat(u.offset() - g.dataOffset()).isEqualTo(t.offset() - f.dataOffset());
                }
                byte[] a = Files.readAllBytes(src);
                byte[] b = Files.readAllBytes(out);
                assertThat(Arrays.copyOfRange(b, (int) g.dataOffset(), b.length)).isEqualTo(Arrays.copyOfRange(a, (int) f.dataOffset(), a.length));
            }
        }
    }

    @Test
    void replacesAnExistingFileAndLeavesNoTemporaryOnFailure() throws IOException {
        Path p = tmp.resolve("t.safetensors");
        Files.writeString(p, "old");
        SafetensorsWriter failing = new SafetensorsWriter().add("x", SafetensorsDtype.F32, new long[]{1}, seg -> {
            throw new IllegalStateException("producer failed");
        });
        assertThatThrownBy(() -> failing.write(p)).hasMessage("producer failed");
        assertThat(Files.readString(p)).isEqualTo("old");
        assertThat(Files.list(tmp)).hasSize(1);
        new SafetensorsWriter().addF32("x", new float[]{3}, 1).write(p);
        try (SafetensorsFile f = SafetensorsFile.open(p)) {
            assertThat(f.data("x").get(ValueLayout.JAVA_FLOAT_UNALIGNED, 0)).isEqualTo(3f);
        }
    }

    @Test
    void rejectsInconsistentInput() {
        SafetensorsWriter w = new SafetensorsWriter().addF32("a", new float[]{1}, 1);
        assertThatThrownBy(() -> w.addF32("a", new float[]{1}, 1)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> w.addF32("b", new float[]{1, 2}, 3)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> w.addF32("__metadata__", new float[]{1}, 1)).isInstanceOf(IllegalArgumentException.class);
    }
}
