package io.quant4j.testing;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** Locates ../shared (models, golden files, data); override with the QUANT4J_SHARED environment variable. */
public final class Shared {
    private Shared() {
    }

    public static Path root() {
        String env = System.getenv("QUANT4J_SHARED");
        return Path.of(env != null ? env : "../shared").toAbsolutePath().normalize();
    }

    /** A file under ../shared; the calling test is skipped (not passed) when the shared folder is absent. */
    public static Path file(String relative) {
        Path p = root().resolve(relative);
        assumeTrue(Files.exists(p), "shared file missing: " + p);
        return p;
    }
}
