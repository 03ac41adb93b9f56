package io.quant4j.sampling;

import java.util.function.IntConsumer;

/** Receives each generated token as it is chosen; returning false stops the generation after that token. */
@FunctionalInterface
public interface TokenListener {
    TokenListener NONE = token -> true;

    boolean onToken(int token);

    /** A listener that never stops the generation. */
    static TokenListener of(IntConsumer consumer) {
        return token -> {
            consumer.accept(token);
            return true;
        };
    }
}
