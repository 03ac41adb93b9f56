package io.quant4j.testing;

import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * A scratch copy of a model file for fuzzing: truncated prefixes are written as fresh files (a new inode, so no
 * earlier mapping can see a shrinking file), small in-place patches are written over the full copy and undone.
 */
public final class MutableCopy {
    private final byte[] original;
    private final Path path;
    private int patchedAt = -1;
    private int patchedLength;

    public MutableCopy(Path source, Path target) {
        try {
            this.original = Files.readAllBytes(source);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        this.path = target;
        restore();
    }

    public Path path() {
        return path;
    }

    public byte[] original() {
        return original;
    }

    public int size() {
        return original.length;
    }

    /** The copy becomes the first {@code n} bytes of the original. */
    public void truncateTo(int n) {
        write(original, n);
    }

    /**
     * Cuts the copy down to {@code n} bytes in place (n no larger than its current size). Sweeping n downwards
     * costs one truncate call per case instead of rewriting the file; no mapping outlives a case, so this is safe.
     */
    public void shrinkTo(long n) {
        patchedAt = -1;
        try (FileChannel ch = FileChannel.open(path, StandardOpenOption.WRITE)) {
            if (n > ch.size()) {
                throw new IllegalArgumentException("cannot grow " + path + " to " + n + " bytes by shrinking");
            }
            ch.truncate(n);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The copy becomes {@code content} (e.g. a rewritten header before the original data). */
    public void replaceWith(byte[] content) {
        write(content, content.length);
    }

    public void restore() {
        write(original, original.length);
    }

    /** Overwrites {@code bytes} at {@code position} in the full copy; {@link #unpatch} puts the original back. */
    public void patch(int position, byte[] bytes) {
        if (patchedAt >= 0) {
            unpatch();
        }
        int n = Math.min(bytes.length, original.length - position);
        writeAt(position, ByteBuffer.wrap(bytes, 0, n));
        patchedAt = position;
        patchedLength = n;
    }

    public void unpatch() {
        if (patchedAt >= 0) {
            writeAt(patchedAt, ByteBuffer.wrap(original, patchedAt, patchedLength));
            patchedAt = -1;
        }
    }

    private void writeAt(long position, ByteBuffer bytes) {
        try (FileChannel ch = FileChannel.open(path, StandardOpenOption.WRITE)) {
            long at = position;
            while (bytes.hasRemaining()) {
                at += ch.write(bytes, at);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private void write(byte[] content, int n) {
        patchedAt = -1;
        try {
            Files.deleteIfExists(path);
            try (OutputStream out = Files.newOutputStream(path)) {
                out.write(content, 0, n);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
