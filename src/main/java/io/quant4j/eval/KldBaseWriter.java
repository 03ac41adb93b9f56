package io.quant4j.eval;

import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

/**
 * Writes a KL-divergence base file while the base model's perplexity run goes on: the header and tokens first,
 * then one quantized log-prob row per scored position as it is produced, so nothing but one row is held. The
 * file is written beside the target under a temporary name and renamed by {@link #commit()}; closing without
 * a commit (a failed run) removes it, so a half-written base file never takes the target's name.
 */
public final class KldBaseWriter implements ScoredPositionObserver, AutoCloseable {
    private final KldBaseFile layout;
    private final Path target;
    private final Path temp;
    private final OutputStream out;
    private final LogProbRow row;
    private final ByteBuffer rowBytes;
    private long rowsWritten;
    private boolean committed;

    /** {@code tokens} must hold at least chunks * ctx tokens; the first chunks * ctx are stored. */
    public KldBaseWriter(Path target, PerplexityProtocol protocol, int ctx, int vocab, int chunks, int[] tokens) {
        if (tokens.length < (long) chunks * ctx) {
            throw new IllegalArgumentException(chunks + " chunks of " + ctx + " tokens need " + (long) chunks * ctx
                    + " tokens, have " + tokens.length);
        }
        this.layout = new KldBaseFile(protocol, ctx, vocab, chunks);
        this.target = target.toAbsolutePath();
        this.row = new LogProbRow(vocab);
        this.rowBytes = ByteBuffer.allocate((int) layout.rowBytes()).order(ByteOrder.LITTLE_ENDIAN);
        try {
            Path dir = this.target.getParent();
            this.temp = Files.createTempFile(dir, "." + this.target.getFileName(), ".part");
            this.out = new BufferedOutputStream(Files.newOutputStream(temp), 1 << 20);
            ByteBuffer header = ByteBuffer.allocate((int) layout.rowsOffset()).order(ByteOrder.LITTLE_ENDIAN);
            header.put(KldBaseFile.magic(protocol)).putInt(ctx).putInt(vocab).putInt(chunks);
            for (int i = 0; i < chunks * ctx; i++) {
                header.putInt(tokens[i]);
            }
            out.write(header.array());
        } catch (IOException e) {
            throw new UncheckedIOException(target + ": cannot write the KL-divergence base file: " + e.getMessage(), e);
        }
    }

    public KldBaseFile layout() {
        return layout;
    }

    @Override
    public void scored(float[] logits, int nextToken) {
        write(logits, nextToken);
    }

    /** Stores one scored position and returns the NLL of {@code nextToken} as llama.cpp computes it while storing. */
    public double write(float[] logits, int nextToken) {
        if (logits.length < layout.vocab()) {
            throw new IllegalArgumentException("logits have " + logits.length + " entries, the base file's vocabulary is " + layout.vocab());
        }
        double nll = row.encode(logits, nextToken);
        rowBytes.clear();
        rowBytes.putFloat(row.scale()).putFloat(row.minLogProb());
        for (int i = 0; i < layout.vocab(); i++) {
            rowBytes.putShort((short) row.level(i));
        }
        while (rowBytes.hasRemaining()) {
            rowBytes.putShort((short) 0); // padding to an even count, zero as in llama.cpp's zero-initialised buffer
        }
        try {
            out.write(rowBytes.array());
        } catch (IOException e) {
            throw new UncheckedIOException(temp + ": write failed: " + e.getMessage(), e);
        }
        rowsWritten++;
        return nll;
    }

    /** Finishes the file under its target name; every scored position of every chunk must have been written. */
    public void commit() {
        long expected = (long) layout.chunks() * layout.rowsPerChunk();
        if (rowsWritten != expected) {
            throw new IllegalStateException(target + ": " + rowsWritten + " positions were written, the header promises " + expected);
        }
        try {
            out.close();
            Files.move(temp, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            committed = true;
        } catch (IOException e) {
            throw new UncheckedIOException(target + ": cannot finish the KL-divergence base file: " + e.getMessage(), e);
        }
    }

    @Override
    public void close() {
        if (committed) {
            return;
        }
        try {
            out.close();
        } catch (IOException ignored) {
            // the partial file is deleted next
        }
        try {
            Files.deleteIfExists(temp);
        } catch (IOException ignored) {
            // a leftover .part file is harmless
        }
    }
}
