package io.quant4j.chat;

import java.util.List;

/**
 * Finds stop strings in streamed output. Text that could still grow into a stop string must be held back, so a
 * streaming chat prints only {@link #safeLength} characters and cuts the reply at {@link #find}.
 */
public final class StopStrings {
    private final List<String> stops;

    public StopStrings(List<String> stops) {
        for (String s : stops) {
            if (s.isEmpty()) {
                throw new IllegalArgumentException("a stop string must not be empty");
            }
        }
        this.stops = List.copyOf(stops);
    }

    /** Where the earliest stop string starts in {@code text}, or -1. */
    public int find(CharSequence text) {
        String s = text.toString();
        int earliest = -1;
        for (String stop : stops) {
            int i = s.indexOf(stop);
            if (i >= 0 && (earliest < 0 || i < earliest)) {
                earliest = i;
            }
        }
        return earliest;
    }

    /**
     * How much of {@code text} can be shown: up to the first stop string if there is one, else all of it but a
     * tail that is a proper prefix of some stop string (it may complete with the next token).
     */
    public int safeLength(CharSequence text) {
        int found = find(text);
        if (found >= 0) {
            return found;
        }
        String s = text.toString();
        int n = s.length();
        int hold = 0;
        for (String stop : stops) {
            for (int len = Math.min(stop.length() - 1, n); len > hold; len--) {
                if (stop.regionMatches(0, s, n - len, len)) {
                    hold = len;
                    break;
                }
            }
        }
        return n - hold;
    }
}
