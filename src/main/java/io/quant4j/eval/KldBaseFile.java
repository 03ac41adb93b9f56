package io.quant4j.eval;

import java.nio.charset.StandardCharsets;

/**
 * The layout of a KL-divergence base file (see docs/kld-format.md). With the llama.cpp protocol it is
 * llama-perplexity's {@code --kl-divergence-base} file byte for byte: magic {@code _logits_}, int32 n_ctx,
 * int32 n_vocab, int32 n_chunk, int32 tokens[n_chunk * n_ctx], then for every chunk its scored positions
 * (n_ctx - 1 - n_ctx/2 of them), each a row of {@link #rowShorts} uint16 (two floats scale and min_log_prob,
 * n_vocab levels, padded to an even count). quant4j's GPTQ-protocol variant differs only in its magic
 * ({@code _q4jgptq}) and in scoring every position (n_ctx - 1 rows per chunk). Little-endian throughout.
 */
public record KldBaseFile(PerplexityProtocol protocol, int ctx, int vocab, int chunks) {
    static final byte[] LLAMACPP_MAGIC = "_logits_".getBytes(StandardCharsets.US_ASCII);
    static final byte[] GPTQ_MAGIC = "_q4jgptq".getBytes(StandardCharsets.US_ASCII);
    /** Magic plus n_ctx, n_vocab, n_chunk. */
    static final int HEADER_BYTES = 8 + 3 * 4;
    static final int MAX_VOCAB = 1 << 24;
    static final int MAX_CTX = 1 << 24;

    static byte[] magic(PerplexityProtocol p) {
        return p == PerplexityProtocol.LLAMACPP ? LLAMACPP_MAGIC : GPTQ_MAGIC;
    }

    /** uint16 values per stored row: llama.cpp's {@code nv = 2*((n_vocab+1)/2) + 4}. */
    public static int rowShorts(int vocab) {
        return 2 * ((vocab + 1) / 2) + 4;
    }

    public int rowsPerChunk() {
        return protocol.scoredPerChunk(ctx);
    }

    public long rowBytes() {
        return 2L * rowShorts(vocab);
    }

    public long tokensOffset() {
        return HEADER_BYTES;
    }

    public long rowsOffset() {
        return HEADER_BYTES + 4L * ctx * chunks;
    }

    /** What the file must measure; ArithmeticException when the header's counts cannot describe any real file. */
    public long expectedSize() {
        long rows = Math.multiplyExact((long) chunks, (long) rowsPerChunk());
        return Math.addExact(rowsOffset(), Math.multiplyExact(rows, rowBytes()));
    }
}
