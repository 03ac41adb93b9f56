package io.quant4j.cli;

import io.quant4j.format.gguf.GgufFile;
import io.quant4j.convert.GgufExporter;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;

/** Lets commands that work on GGUF take a Hugging Face folder or llama2.c checkpoint: converted to a temporary GGUF first. */
final class SourceConversion {
    private SourceConversion() {
    }

    static Path asGguf(Path in, PrintWriter log) {
        if (Files.isRegularFile(in) && isGguf(in)) {
            return in;
        }
        try {
            Path tmp = Files.createTempFile("quant4j-src-", ".gguf");
            log.printf("converting %s to a temporary GGUF (%s)%n", in, tmp);
            GgufExporter.export(in, null, tmp);
            return tmp;
        } catch (IOException e) {
            throw new UserException("cannot create a temporary file: " + e.getMessage());
        }
    }

    static void cleanup(Path converted, Path original) {
        if (!converted.equals(original)) {
            try {
                Files.deleteIfExists(converted);
            } catch (IOException ignored) {
                // a leftover temporary file is harmless
            }
        }
    }

    private static boolean isGguf(Path p) {
        try (var ch = java.nio.channels.FileChannel.open(p)) {
            java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate(4).order(java.nio.ByteOrder.LITTLE_ENDIAN);
            ch.read(b);
            return b.position() == 4 && b.getInt(0) == GgufFile.MAGIC;
        } catch (IOException e) {
            return false;
        }
    }
}
