package io.quant4j.format;

import java.nio.file.Path;

/**
 * A model, tokenizer or data file that cannot be used as it is: truncated, corrupted, inconsistent or of an
 * unsupported kind. The message is one line that names the file and the problem; the CLI prints it as is.
 * Control characters are escaped here, so text copied from a corrupt file can never break that line.
 */
public class ModelFormatException extends RuntimeException {
    private static final int QUOTE_LIMIT = 80;

    private final Path file;

    public ModelFormatException(Path file, String problem) {
        super(oneLine((file == null ? "" : file + ": ") + problem));
        this.file = file;
    }

    public ModelFormatException(Path file, String problem, Throwable cause) {
        super(oneLine((file == null ? "" : file + ": ") + problem), cause);
        this.file = file;
    }

    public Path file() {
        return file;
    }

    /**
     * A name read from a file (a key, a tensor name, a type string), quoted for a message: control characters
     * escaped and long names abbreviated, since a corrupt length can turn kilobytes of data into a "name".
     */
    public static String quote(String raw) {
        if (raw.length() <= QUOTE_LIMIT) {
            return "'" + escape(raw) + "'";
        }
        int cut = Character.isHighSurrogate(raw.charAt(QUOTE_LIMIT - 1)) ? QUOTE_LIMIT - 1 : QUOTE_LIMIT;
        return "'" + escape(raw.substring(0, cut)) + "...' (" + raw.length() + " characters)";
    }

    private static String oneLine(String s) {
        for (int i = 0; i < s.length(); i++) {
            if (isLineBreaking(s.charAt(i))) {
                return escape(s);
            }
        }
        return s;
    }

    private static String escape(String s) {
        StringBuilder b = new StringBuilder(s.length());
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (isLineBreaking(c)) {
                b.append(c < 0x100 ? String.format("\\x%02x", (int) c) : String.format("\\u%04x", (int) c));
            } else {
                b.append(c);
            }
        }
        return b.toString();
    }

    private static boolean isLineBreaking(char c) {
        int type = Character.getType(c);
        return type == Character.CONTROL || type == Character.LINE_SEPARATOR || type == Character.PARAGRAPH_SEPARATOR;
    }
}
