package io.quant4j.format;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/** Read-only memory mapping of a whole file into an arena (long offsets: files over 2 GB work). */
public final class MappedFile {
    private MappedFile() {
    }

    /**
     * Maps {@code path} read-only; the mapping lives until {@code arena} closes. An empty file gives an empty
     * segment (mapping zero bytes is not allowed everywhere). I/O problems become {@link ModelFormatException}s.
     */
    public static MemorySegment map(Path path, Arena arena, String expectedKind) {
        if (Files.isDirectory(path)) {
            throw new ModelFormatException(path, "is a directory, not " + expectedKind);
        }
        try (FileChannel ch = FileChannel.open(path, StandardOpenOption.READ)) {
            long size = ch.size();
            if (size == 0) {
                return arena.allocate(0);
            }
            return ch.map(FileChannel.MapMode.READ_ONLY, 0, size, arena);
        } catch (NoSuchFileException e) {
            throw new ModelFormatException(path, "no such file");
        } catch (IOException e) {
            throw new ModelFormatException(path, "cannot read: " + e.getMessage());
        }
    }
}
