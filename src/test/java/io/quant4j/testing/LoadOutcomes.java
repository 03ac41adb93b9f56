package io.quant4j.testing;

import io.quant4j.format.ModelFormatException;
import io.quant4j.model.Llama;
import io.quant4j.model.ModelWeights;

import java.nio.file.Path;
import java.util.function.Supplier;

import static org.junit.jupiter.api.Assertions.fail;

/**
 * The contract every fuzz case checks: loading a damaged file either succeeds (and the model then runs a token
 * without error) or throws a {@link ModelFormatException} whose one-line message names the file. Anything else
 * (another exception type, an Error such as OutOfMemoryError) fails the test with the case that caused it.
 */
public final class LoadOutcomes {
    private int loaded;
    private int rejected;
    private volatile String current = "(none yet)";

    public void check(String caseName, Path mustBeNamed, Supplier<ModelWeights> load) {
        current = caseName;
        ModelWeights w;
        try {
            w = load.get();
        } catch (ModelFormatException e) {
            String m = e.getMessage();
            if (!m.contains(mustBeNamed.getFileName().toString()) || m.contains("\n")) {
                fail(caseName + ": message does not name " + mustBeNamed.getFileName() + " on one line: " + m);
            }
            rejected++;
            return;
        } catch (Throwable t) {
            fail(caseName + ": expected success or ModelFormatException, got " + t, t);
            return;
        }
        try (w) {
            float[] logits = new Llama(w.config(), w.weights()).newSession(2).forward(0);
            if (logits.length != w.config().vocabSize()) {
                fail(caseName + ": loaded model gives " + logits.length + " logits for a vocabulary of " + w.config().vocabSize());
            }
        } catch (Throwable t) {
            fail(caseName + ": loaded, but running one token failed: " + t, t);
        }
        loaded++;
    }

    public int loaded() {
        return loaded;
    }

    public int rejected() {
        return rejected;
    }

    /** For assertTimeoutPreemptively's message: the case that was running when time ran out. */
    public String current() {
        return "hung (or too slow) on case: " + current;
    }
}
