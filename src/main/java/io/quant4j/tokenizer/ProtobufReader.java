package io.quant4j.tokenizer;

import io.quant4j.format.ModelFormatException;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

/**
 * Just enough of the protobuf wire format to read a SentencePiece model: fields are read one at a time, and every
 * length is checked against the bytes that remain before anything is allocated.
 */
final class ProtobufReader {
    static final int VARINT = 0;
    static final int FIXED64 = 1;
    static final int LENGTH_DELIMITED = 2;
    static final int FIXED32 = 5;

    private final Path file;
    private final ByteBuffer in;
    private int wireType;

    ProtobufReader(Path file, ByteBuffer in) {
        this.file = file;
        this.in = in.slice().order(ByteOrder.LITTLE_ENDIAN);
    }

    boolean hasMore() {
        return in.hasRemaining();
    }

    /** Reads the next field's tag and returns its number; its wire type is then {@link #wireType()}. */
    int nextField() {
        long tag = varint();
        wireType = (int) (tag & 7);
        long field = tag >>> 3;
        if (field <= 0 || field > Integer.MAX_VALUE) {
            throw corrupt("field number " + field);
        }
        return (int) field;
    }

    int wireType() {
        return wireType;
    }

    long varint() {
        long result = 0;
        for (int shift = 0; shift < 64; shift += 7) {
            if (!in.hasRemaining()) {
                throw corrupt("varint runs past the end");
            }
            int b = in.get() & 0xFF;
            result |= (long) (b & 0x7F) << shift;
            if (b < 0x80) {
                return result;
            }
        }
        throw corrupt("varint longer than 10 bytes");
    }

    float fixed32Float() {
        expect(FIXED32);
        if (in.remaining() < 4) {
            throw corrupt("float runs past the end");
        }
        return in.getFloat();
    }

    /** A length-delimited field's bytes as a reader of their own. */
    ProtobufReader message() {
        expect(LENGTH_DELIMITED);
        return new ProtobufReader(file, bytes());
    }

    String string() {
        expect(LENGTH_DELIMITED);
        ByteBuffer b = bytes();
        byte[] a = new byte[b.remaining()];
        b.get(a);
        return new String(a, StandardCharsets.UTF_8);
    }

    long varintField() {
        expect(VARINT);
        return varint();
    }

    void skip() {
        switch (wireType) {
            case VARINT -> varint();
            case FIXED64 -> advance(8);
            case LENGTH_DELIMITED -> bytes();
            case FIXED32 -> advance(4);
            default -> throw corrupt("unsupported wire type " + wireType);
        }
    }

    private ByteBuffer bytes() {
        long length = varint();
        if (length < 0 || length > in.remaining()) {
            throw corrupt("a field claims " + length + " bytes but only " + in.remaining() + " remain");
        }
        ByteBuffer b = in.slice(in.position(), (int) length);
        in.position(in.position() + (int) length);
        return b;
    }

    private void advance(int n) {
        if (in.remaining() < n) {
            throw corrupt("field runs past the end");
        }
        in.position(in.position() + n);
    }

    private void expect(int type) {
        if (wireType != type) {
            throw corrupt("wire type " + wireType + " where " + type + " was expected");
        }
    }

    private ModelFormatException corrupt(String problem) {
        return new ModelFormatException(file, "corrupt protobuf: " + problem);
    }
}
