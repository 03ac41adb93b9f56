package io.quant4j.format;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

/**
 * A little-endian cursor over a mapped file that checks every read against the file length, so that a
 * truncated or lying header ends in a {@link ModelFormatException} naming what was being read, never in an
 * IndexOutOfBounds or an allocation sized by an unchecked count.
 */
public final class BoundedReader {
    private static final ValueLayout.OfInt I32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfLong I64 = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfShort I16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfDouble F64 = ValueLayout.JAVA_DOUBLE_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private final Path file;
    private final MemorySegment data;
    private long position;

    public BoundedReader(Path file, MemorySegment data) {
        this.file = file;
        this.data = data;
    }

    public Path file() {
        return file;
    }

    public long position() {
        return position;
    }

    public void seek(long position) {
        this.position = position;
    }

    public long size() {
        return data.byteSize();
    }

    public long remaining() {
        return data.byteSize() - position;
    }

    /** Fails unless {@code n} more bytes are available. */
    public void need(long n, String what) {
        if (n < 0 || n > remaining()) {
            throw new ModelFormatException(file, "truncated or corrupt: " + what + " needs " + (n < 0 ? "a negative number of" : Long.toUnsignedString(n))
                    + " bytes at offset " + position + " but the file has " + remaining() + " left");
        }
    }

    public byte i8(String what) {
        need(1, what);
        return data.get(ValueLayout.JAVA_BYTE, position++);
    }

    public short i16(String what) {
        need(2, what);
        short v = data.get(I16, position);
        position += 2;
        return v;
    }

    public int i32(String what) {
        need(4, what);
        int v = data.get(I32, position);
        position += 4;
        return v;
    }

    public long i64(String what) {
        need(8, what);
        long v = data.get(I64, position);
        position += 8;
        return v;
    }

    public float f32(String what) {
        need(4, what);
        float v = data.get(F32, position);
        position += 4;
        return v;
    }

    public double f64(String what) {
        need(8, what);
        double v = data.get(F64, position);
        position += 8;
        return v;
    }

    public byte[] bytes(long n, String what) {
        need(n, what);
        byte[] out = new byte[(int) n];
        MemorySegment.copy(data, ValueLayout.JAVA_BYTE, position, out, 0, (int) n);
        position += n;
        return out;
    }

    /** Strict UTF-8: invalid bytes are a format error, not silently replaced. */
    public String utf8(long n, String what) {
        if (n > Integer.MAX_VALUE - 8) {
            throw new ModelFormatException(file, "corrupt: " + what + " has absurd length " + Long.toUnsignedString(n));
        }
        byte[] b = bytes(n, what);
        try {
            return StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(java.nio.ByteBuffer.wrap(b)).toString();
        } catch (CharacterCodingException e) {
            throw new ModelFormatException(file, "corrupt: " + what + " is not valid UTF-8");
        }
    }

    /** Lenient UTF-8 for text where invalid bytes are legitimate (SentencePiece byte pieces). */
    public String utf8Lenient(long n, String what) {
        if (n > Integer.MAX_VALUE - 8) {
            throw new ModelFormatException(file, "corrupt: " + what + " has absurd length " + Long.toUnsignedString(n));
        }
        return new String(bytes(n, what), StandardCharsets.UTF_8);
    }
}
