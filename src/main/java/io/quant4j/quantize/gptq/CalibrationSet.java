package io.quant4j.quantize.gptq;

import io.quant4j.tokenizer.Tokenizer;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;

/**
 * The calibration windows: {@code nsamples} windows of {@code seqlen} tokens from a text tokenized once (BOS at its
 * start, as GPTQ's datautils tokenizes a whole split). GPTQ draws overlapping random windows from a large train
 * split; with the smaller texts at hand the windows are distinct non-overlapping slots, drawn at random (seeded),
 * so the text must hold at least nsamples × seqlen tokens.
 */
public record CalibrationSet(String source, int[][] windows, int textTokens) {

    public static CalibrationSet of(String source, String text, Tokenizer tokenizer, int nsamples, int seqlen, long seed) {
        if (nsamples < 1) {
            throw new IllegalArgumentException("--nsamples must be at least 1, got " + nsamples);
        }
        if (seqlen < 2) {
            throw new IllegalArgumentException("--seqlen must be at least 2, got " + seqlen);
        }
        int[] tokens = tokenizer.encode(text, true, false);
        long needed = (long) nsamples * seqlen;
        if (tokens.length < needed) {
            throw new IllegalArgumentException("calibration text " + source + " has " + tokens.length + " tokens; --nsamples "
                    + nsamples + " x --seqlen " + seqlen + " needs " + needed + " (use a longer text or fewer/shorter samples)");
        }
        List<Integer> slots = new ArrayList<>();
        for (int s = 0; s < tokens.length / seqlen; s++) {
            slots.add(s);
        }
        Collections.shuffle(slots, new Random(seed));
        int[][] windows = new int[nsamples][];
        for (int i = 0; i < nsamples; i++) {
            int start = slots.get(i) * seqlen;
            windows[i] = java.util.Arrays.copyOfRange(tokens, start, start + seqlen);
        }
        return new CalibrationSet(source, windows, tokens.length);
    }

    public int seqlen() {
        return windows[0].length;
    }

    public int nsamples() {
        return windows.length;
    }
}
