package io.quant4j.format.safetensors;

import io.quant4j.format.ModelFormatException;
import io.quant4j.testing.Shared;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class SafetensorsFileTest {
    @TempDir
    Path tmp;

    /** Builds a file from a header string and data bytes, with an honest header length. */
    static byte[] file(String header, byte[] data) {
        byte[] h = header.getBytes(StandardCharsets.UTF_8);
        ByteBuffer b = ByteBuffer.allocate(8 + h.length + data.length).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(h.length).put(h).put(data);
        return b.array();
    }

    Path write(String name, byte[] bytes) throws IOException {
        Path p = tmp.resolve(name);
        Files.write(p, bytes);
        return p;
    }

    @Test
    void readsStoriesCheckpoint() {
        try (SafetensorsFile f = SafetensorsFile.open(Shared.file("models/stories260K/hf/model.safetensors"))) {
            assertThat(f.tensors().keySet()).hasSize(47);
            assertThat(f.metadata()).containsEntry("format", "pt");
            SafetensorsTensorInfo emb = f.tensor("model.embed_tokens.weight");
            assertThat(emb.dtype()).isEqualTo(SafetensorsDtype.F32);
            assertThat(emb.shape()).containsExactly(512, 64);
            assertThat(emb.byteSize()).isEqualTo(512 * 64 * 4);
            assertThat(f.data(emb).byteSize()).isEqualTo(512 * 64 * 4);
            assertThat(f.tensor("model.norm.weight").shape()).containsExactly(64);
        }
    }

    @Test
    void readsMetadataAndRawDtypes() throws IOException {
        byte[] data = new byte[4 + 3 + 8];
        data[0] = 7;
        Path p = write("a.safetensors", file("{\"__metadata__\":{\"format\":\"pt\"},\"i\":{\"dtype\":\"I32\",\"shape\":[1],\"data_offsets\":[0,4]},"
                + "\"b\":{\"dtype\":\"U8\",\"shape\":[3],\"data_offsets\":[4,7]},\"s\":{\"dtype\":\"I64\",\"shape\":[],\"data_offsets\":[7,15]}}  ", data));
        try (SafetensorsFile f = SafetensorsFile.open(p)) {
            assertThat(f.metadata()).containsEntry("format", "pt");
            assertThat(f.tensors().keySet()).containsExactly("i", "b", "s");
            assertThat(f.tensor("i").dtype().ggmlType()).isEmpty();
            assertThat(f.data("i").get(ValueLayout.JAVA_INT_UNALIGNED, 0)).isEqualTo(7);
            assertThat(f.tensor("s").shape()).isEmpty();
            assertThat(f.tensor("s").elementCount()).isEqualTo(1);
        }
    }

    @Test
    void emptyHeaderIsAValidEmptyFile() throws IOException {
        try (SafetensorsFile f = SafetensorsFile.open(write("e.safetensors", file("{}      ", new byte[0])))) {
            assertThat(f.tensors()).isEmpty();
        }
    }

    private void assertRejected(String header, byte[] data, String... fragments) throws IOException {
        Path p = write("bad.safetensors", file(header, data));
        assertThatThrownBy(() -> SafetensorsFile.open(p).close())
                .isInstanceOf(ModelFormatException.class)
                .hasMessageStartingWith(p.toString())
                .hasMessageContainingAll(fragments);
    }

    @Test
    void headerLengthLargerThanFile() throws IOException {
        byte[] bytes = file("{}", new byte[0]);
        ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).putLong(0, 1000);
        Path p = write("long.safetensors", bytes);
        assertThatThrownBy(() -> SafetensorsFile.open(p))
                .isInstanceOf(ModelFormatException.class)
                .hasMessage(p + ": truncated or not a safetensors file: header length 1000 is larger than the rest of the file (2 bytes)");
    }

    @Test
    void absurdHeaderLength() throws IOException {
        byte[] bytes = file("{}", new byte[0]);
        ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).putLong(0, -1L);
        Path p = write("absurd.safetensors", bytes);
        assertThatThrownBy(() -> SafetensorsFile.open(p))
                .isInstanceOf(ModelFormatException.class)
                .hasMessageContaining("header length 18446744073709551615 is absurd");
    }

    @Test
    void tooShortForTheHeaderLength() throws IOException {
        Path p = write("short.safetensors", new byte[5]);
        assertThatThrownBy(() -> SafetensorsFile.open(p)).isInstanceOf(ModelFormatException.class).hasMessageContaining("shorter than the 8-byte");
    }

    @Test
    void badHeaders() throws IOException {
        byte[] four = new byte[4];
        assertRejected("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}", four, "header is not valid JSON");
        assertRejected("[1,2]", new byte[0], "header is not a JSON object");
        assertRejected("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}} x", four, "not valid JSON");
        assertRejected("{\"a\":{\"dtype\":\"Q4\",\"shape\":[1],\"data_offsets\":[0,4]}}", four, "tensor 'a' has unknown dtype 'Q4'");
        assertRejected("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,4]}}", four, "tensor 'a'", "needs 8 bytes");
        assertRejected("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", four, "tensor 'a'", "past the end of the file");
        assertRejected("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}",
                four, "overlaps the previous tensor");
        assertRejected("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", new byte[8], "tensor 'a' leaves a gap");
        assertRejected("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", new byte[8], "4 bytes after the last tensor");
        assertRejected("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,18446744073709551615]}}", four, "not a non-negative 64-bit integer");
        assertRejected("{\"a\":{\"dtype\":\"F32\",\"shape\":[-1],\"data_offsets\":[0,4]}}", four, "\"shape\" holds '-1'");
        assertRejected("{\"a\":{\"dtype\":\"F32\",\"shape\":[1099511627776,1099511627776],\"data_offsets\":[0,4]}}", four, "absurd shape");
        assertRejected("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0]}}", four, "no \"data_offsets\" array of 2 integers");
        assertRejected("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}",
                four, "Duplicate field 'a'");
        assertRejected("{\"__metadata__\":{\"x\":1}}", new byte[0], "value of 'x' is not a string");
        assertRejected("{\"a\":3}", new byte[0], "tensor 'a' is described by number");
    }

    @Test
    void missingTensorNamesFile() {
        Path p = Shared.file("models/stories260K/hf/model.safetensors");
        try (SafetensorsFile f = SafetensorsFile.open(p)) {
            assertThatThrownBy(() -> f.tensor("nope")).isInstanceOf(ModelFormatException.class).hasMessage(p + ": missing tensor 'nope'");
        }
    }

    @Test
    void noSuchFile() {
        Path p = tmp.resolve("absent.safetensors");
        assertThatThrownBy(() -> SafetensorsFile.open(p)).isInstanceOf(ModelFormatException.class).hasMessage(p + ": no such file");
    }

    @Test
    void dataSliceIsAView() {
        try (SafetensorsFile f = SafetensorsFile.open(Shared.file("models/stories260K/hf/model.safetensors"))) {
            MemorySegment s = f.data("model.norm.weight");
            assertThat(s.isMapped()).isTrue();
        }
    }
}
