package io.quant4j.tokenizer;

import io.quant4j.format.ModelFormatException;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;

/**
 * Reads llama2.c's tokenizer file: int32 max_token_length, then per token f32 score, int32 byte length, bytes.
 * Texts are stored with plain spaces (turned back into {@code ▁} here) and BOS/EOS as "\n<s>\n"/"\n</s>\n".
 * Ids are fixed: 0 unknown, 1 BOS, 2 EOS.
 */
final class Llama2cTokenizerLoader {
    private static final int HEADER = 4;
    private static final int PER_TOKEN = 8; // score + length, before the text bytes
    private static final long MAX_FILE_SIZE = 256L << 20; // real ones are well under 10 MB; refuse to slurp a model

    private Llama2cTokenizerLoader() {
    }

    static Tokenizer load(Path file, int vocabSize) {
        if (vocabSize <= 0) {
            throw new ModelFormatException(file, "vocabulary size " + vocabSize + " is not positive");
        }
        long size = fileSize(file);
        if (size < HEADER || (size - HEADER) / PER_TOKEN < vocabSize) {
            throw new ModelFormatException(file, "too short (" + size + " bytes) for " + vocabSize + " tokens: truncated, or the wrong vocabulary size?");
        }
        if (size > MAX_FILE_SIZE) {
            throw new ModelFormatException(file, "too large (" + size + " bytes) for a llama2.c tokenizer file");
        }
        ByteBuffer in = ByteBuffer.wrap(readAll(file)).order(ByteOrder.LITTLE_ENDIAN);
        int maxTokenLength = in.getInt();
        if (maxTokenLength <= 0) {
            throw new ModelFormatException(file, "max_token_length " + maxTokenLength + " is not positive: not a llama2.c tokenizer file?");
        }
        String[] texts = new String[vocabSize];
        float[] scores = new float[vocabSize];
        TokenType[] types = new TokenType[vocabSize];
        for (int i = 0; i < vocabSize; i++) {
            if (in.remaining() < PER_TOKEN) {
                throw new ModelFormatException(file, "truncated: token #" + i + " of " + vocabSize + " is missing");
            }
            scores[i] = in.getFloat();
            int length = in.getInt();
            if (length < 0 || length > in.remaining()) {
                throw new ModelFormatException(file, "token #" + i + " claims " + length + " bytes but only " + in.remaining() + " remain: truncated or corrupt");
            }
            byte[] bytes = new byte[length];
            in.get(bytes);
            texts[i] = new String(bytes, StandardCharsets.UTF_8);
        }
        for (int i = 0; i < vocabSize; i++) {
            String t = texts[i];
            if (i == 1 || i == 2) {
                texts[i] = t.strip(); // "\n<s>\n" → "<s>"
                types[i] = TokenType.CONTROL;
            } else if (i == 0) {
                types[i] = TokenType.UNKNOWN;
            } else if (t.length() == 6 && t.startsWith("<0x") && t.endsWith(">")) {
                types[i] = TokenType.BYTE;
            } else {
                texts[i] = t.replace(' ', SentencePieceTokenizer.SPACE_MARK);
                types[i] = TokenType.NORMAL;
            }
        }
        SpecialIds ids = new SpecialIds(1, 2, -1, -1, 0, -1, true);
        return SentencePieceTokenizer.scoreRanked(new Vocabulary(file, texts, scores, types, ids), true);
    }

    private static long fileSize(Path file) {
        try {
            return Files.size(file);
        } catch (NoSuchFileException e) {
            throw new ModelFormatException(file, "no such file");
        } catch (IOException e) {
            throw new ModelFormatException(file, "cannot read: " + e.getMessage());
        }
    }

    static byte[] readAll(Path file) {
        try {
            return Files.readAllBytes(file);
        } catch (NoSuchFileException e) {
            throw new ModelFormatException(file, "no such file");
        } catch (IOException e) {
            throw new ModelFormatException(file, "cannot read: " + e.getMessage());
        }
    }
}
