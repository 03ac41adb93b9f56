package io.quant4j.format;

import java.nio.file.Path;

/**
 * A model, tokenizer or data file that cannot be used as it is: truncated, corrupted, inconsistent or of an
 * unsupported kind. The message is one line that names the file and the problem; the CLI prints it as is.
 */
public class ModelFormatException extends RuntimeException {
    private final Path file;

    public ModelFormatException(Path file, String problem) {
        super((file == null ? "" : file + ": ") + problem);
        this.file = file;
    }

    public ModelFormatException(Path file, String problem, Throwable cause) {
        super((file == null ? "" : file + ": ") + problem, cause);
        this.file = file;
    }

    public Path file() {
        return file;
    }
}
