package io.quant4j.tokenizer;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;

/**
 * Decodes token ids one at a time for streaming generation. A character may be spread over several byte tokens,
 * so bytes that could still be the start of a character are held back until it completes; everything returned,
 * followed by {@link #flush()}, is exactly {@link Tokenizer#decode} of all the ids accepted.
 */
public final class StreamingDecoder {
    private final Tokenizer tokenizer;
    private final ByteArrayOutputStream pending = new ByteArrayOutputStream();
    private boolean first = true;

    public StreamingDecoder(Tokenizer tokenizer) {
        this.tokenizer = tokenizer;
    }

    /** Adds a token and returns the text it completes (possibly empty). */
    public String accept(int id) {
        pending.writeBytes(first ? tokenizer.firstTokenBytes(id) : tokenizer.tokenBytes(id));
        first = false;
        byte[] bytes = pending.toByteArray();
        int complete = completePrefix(bytes);
        pending.reset();
        pending.write(bytes, complete, bytes.length - complete);
        return new String(bytes, 0, complete, StandardCharsets.UTF_8);
    }

    /** Returns whatever is held back (an unfinished character decodes as U+FFFD) and empties the buffer. */
    public String flush() {
        String rest = pending.toString(StandardCharsets.UTF_8);
        pending.reset();
        return rest;
    }

    /** Starts over, as if no token had been accepted. */
    public void reset() {
        pending.reset();
        first = true;
    }

    /**
     * The length of the longest prefix that can be decoded now: all of it unless it ends in a lead byte followed by
     * fewer continuation bytes than the lead announces. Cutting before a lead byte never splits what the UTF-8
     * decoder reads as one unit, so decoding in pieces gives the same text as decoding at once.
     */
    static int completePrefix(byte[] bytes) {
        int n = bytes.length;
        for (int back = 1; back <= Math.min(3, n); back++) {
            int b = bytes[n - back] & 0xFF;
            if ((b & 0xC0) == 0x80) {
                continue; // continuation byte: look further back for its lead
            }
            int needed = (b & 0xE0) == 0xC0 ? 2 : (b & 0xF0) == 0xE0 ? 3 : (b & 0xF8) == 0xF0 ? 4 : 1;
            return needed > back ? n - back : n;
        }
        return n;
    }
}
