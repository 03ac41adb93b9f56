package io.quant4j.eval;

import io.quant4j.format.ModelFormatException;

import java.io.BufferedInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

/**
 * Reads a KL-divergence base file: the header and tokens are checked when it is opened (magic, sane counts,
 * the exact size the header implies, token ids inside the vocabulary), the rows are then streamed one position
 * at a time, so memory stays at one row whatever the file's size.
 */
public final class KldBaseReader implements AutoCloseable {
    private final Path path;
    private final KldBaseFile layout;
    private final int[] tokens;
    private final InputStream in;
    private final byte[] rowBytes;
    private final LogProbRow row;
    private long rowsRead;

    private KldBaseReader(Path path, KldBaseFile layout, int[] tokens, InputStream in) {
        this.path = path;
        this.layout = layout;
        this.tokens = tokens;
        this.in = in;
        this.rowBytes = new byte[(int) layout.rowBytes()];
        this.row = new LogProbRow(layout.vocab());
    }

    public static KldBaseReader open(Path path) {
        if (!Files.isRegularFile(path)) {
            throw new ModelFormatException(path, "no such KL-divergence base file");
        }
        InputStream in = null;
        try {
            long size = Files.size(path);
            in = new BufferedInputStream(Files.newInputStream(path), 1 << 20);
            ByteBuffer header = ByteBuffer.wrap(readFully(in, path, KldBaseFile.HEADER_BYTES, "header")).order(ByteOrder.LITTLE_ENDIAN);
            byte[] magic = new byte[8];
            header.get(magic);
            PerplexityProtocol protocol;
            if (Arrays.equals(magic, KldBaseFile.LLAMACPP_MAGIC)) {
                protocol = PerplexityProtocol.LLAMACPP;
            } else if (Arrays.equals(magic, KldBaseFile.GPTQ_MAGIC)) {
                protocol = PerplexityProtocol.GPTQ;
            } else {
                throw new ModelFormatException(path, "not a KL-divergence base file (no _logits_ magic)");
            }
            int ctx = header.getInt();
            int vocab = header.getInt();
            int chunks = header.getInt();
            if (ctx < 4 || ctx > KldBaseFile.MAX_CTX) {
                throw new ModelFormatException(path, "corrupt header: n_ctx " + Integer.toUnsignedString(ctx));
            }
            if (vocab < 2 || vocab > KldBaseFile.MAX_VOCAB) {
                throw new ModelFormatException(path, "corrupt header: n_vocab " + Integer.toUnsignedString(vocab));
            }
            if (chunks < 1) {
                throw new ModelFormatException(path, "corrupt header: n_chunk " + chunks);
            }
            KldBaseFile layout = new KldBaseFile(protocol, ctx, vocab, chunks);
            long expected;
            try {
                expected = layout.expectedSize();
            } catch (ArithmeticException e) {
                throw new ModelFormatException(path, "corrupt header: n_ctx " + ctx + ", n_vocab " + vocab + ", n_chunk " + chunks
                        + " describe more than 2^63 bytes");
            }
            if (size < expected) {
                throw new ModelFormatException(path, "truncated: " + size + " bytes, the header (n_ctx " + ctx + ", n_vocab "
                        + vocab + ", n_chunk " + chunks + ") needs " + expected);
            }
            if (size > expected) {
                throw new ModelFormatException(path, "corrupt: " + (size - expected) + " bytes after the last row the header promises");
            }
            if (4L * ctx * chunks > Integer.MAX_VALUE - 8) {
                throw new ModelFormatException(path, "holds " + (long) ctx * chunks + " tokens, more than quant4j can read");
            }
            ByteBuffer tokenBytes = ByteBuffer.wrap(readFully(in, path, 4 * ctx * chunks, "tokens")).order(ByteOrder.LITTLE_ENDIAN);
            int[] tokens = new int[ctx * chunks];
            for (int i = 0; i < tokens.length; i++) {
                tokens[i] = tokenBytes.getInt();
                if (tokens[i] < 0 || tokens[i] >= vocab) {
                    throw new ModelFormatException(path, "corrupt: token " + i + " is " + tokens[i] + ", outside the vocabulary of " + vocab);
                }
            }
            return new KldBaseReader(path, layout, tokens, in);
        } catch (IOException e) {
            closeQuietly(in);
            throw new ModelFormatException(path, "cannot read: " + e.getMessage(), e);
        } catch (RuntimeException e) {
            closeQuietly(in);
            throw e;
        }
    }

    public Path path() {
        return path;
    }

    public KldBaseFile layout() {
        return layout;
    }

    /** The evaluated tokens, chunks * ctx of them, as tokenized (before any BOS substitution). */
    public int[] tokens() {
        return tokens;
    }

    /** The next stored position's log-probs (the returned row is reused by the next call). */
    public LogProbRow nextRow() {
        long total = (long) layout.chunks() * layout.rowsPerChunk();
        if (rowsRead == total) {
            throw new IllegalStateException(path + ": all " + total + " positions have been read");
        }
        long index = rowsRead++;
        try {
            if (in.readNBytes(rowBytes, 0, rowBytes.length) != rowBytes.length) {
                throw new EOFException("end of file");
            }
        } catch (IOException e) {
            throw new ModelFormatException(path, "cannot read position " + index + ": " + e.getMessage(), e);
        }
        ByteBuffer b = ByteBuffer.wrap(rowBytes).order(ByteOrder.LITTLE_ENDIAN);
        float scale = b.getFloat();
        float minLogProb = b.getFloat();
        // a row's window spans at most 16 nats and lies below log p = 0; anything else is damage
        if (!(scale >= 0 && scale <= LogProbRow.WINDOW / 65535f * 1.001f) || !(minLogProb <= 1e-3f && minLogProb > -1e6f)) {
            throw new ModelFormatException(path, "corrupt row at position " + index + " (chunk " + (index / layout.rowsPerChunk() + 1)
                    + "): scale " + scale + ", min_log_prob " + minLogProb);
        }
        row.set(scale, minLogProb);
        for (int i = 0; i < layout.vocab(); i++) {
            row.setLevel(i, b.getShort() & 0xFFFF);
        }
        return row;
    }

    @Override
    public void close() {
        closeQuietly(in);
    }

    private static byte[] readFully(InputStream in, Path path, int n, String what) throws IOException {
        byte[] b = in.readNBytes(n);
        if (b.length != n) {
            throw new ModelFormatException(path, "truncated: the file ends inside its " + what);
        }
        return b;
    }

    private static void closeQuietly(InputStream in) {
        if (in != null) {
            try {
                in.close();
            } catch (IOException ignored) {
                // nothing to do on a failed close of a read-only stream
            }
        }
    }
}
