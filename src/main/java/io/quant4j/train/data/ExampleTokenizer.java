package io.quant4j.train.data;

import io.quant4j.tokenizer.Tokenizer;
import io.quant4j.train.TrainingExample;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Turns segments into token ids and targets as Axolotl does: the whole text is tokenized once (BOS first), and
 * each segment boundary is placed at the token count of the text before it tokenized alone, so prompt tokens can
 * be masked without tokenizing pieces separately (which would add a space prefix to each).
 */
public final class ExampleTokenizer {
    private final Tokenizer tokenizer;
    private final boolean trainOnInputs;

    public ExampleTokenizer(Tokenizer tokenizer, boolean trainOnInputs) {
        this.tokenizer = tokenizer;
        this.trainOnInputs = trainOnInputs;
    }

    public TrainingExample tokenize(List<Segment> segments, boolean appendEos, boolean parseSpecial) {
        StringBuilder text = new StringBuilder();
        int[] ends = new int[segments.size()];
        for (int i = 0; i < segments.size(); i++) {
            text.append(segments.get(i).text());
            ends[i] = text.length();
        }
        int[] ids = tokenizer.encode(text.toString(), true, parseSpecial);
        boolean eos = appendEos && tokenizer.eos() >= 0 && (ids.length == 0 || ids[ids.length - 1] != tokenizer.eos());
        int[] tokens = eos ? Arrays.copyOf(ids, ids.length + 1) : ids;
        if (eos) {
            tokens[ids.length] = tokenizer.eos();
        }
        boolean[] targets = new boolean[tokens.length];
        int from = 0;
        for (int i = 0; i < segments.size(); i++) {
            int to = i == segments.size() - 1 ? ids.length
                    : Math.min(ids.length, tokenizer.encode(text.substring(0, ends[i]), true, parseSpecial).length);
            boolean trained = trainOnInputs || segments.get(i).trained();
            for (int t = Math.max(from, 0); t < to; t++) {
                targets[t] = trained;
            }
            from = Math.max(from, to);
        }
        if (eos) {
            // EOS closes the response: trained when the last segment is
            targets[ids.length] = trainOnInputs || segments.getLast().trained();
        }
        if (tokens.length > 0 && tokenizer.addsBos() && tokens[0] == tokenizer.bos()) {
            targets[0] = false; // BOS is never predicted
        }
        return new TrainingExample(tokens, targets);
    }

    /** Cuts a long example into windows of at most {@code length} tokens (completion data, as Axolotl chunks it). */
    public static List<TrainingExample> chunks(TrainingExample e, int length) {
        List<TrainingExample> out = new ArrayList<>();
        for (int i = 0; i < e.tokens().length; i += length) {
            int j = Math.min(e.tokens().length, i + length);
            out.add(new TrainingExample(Arrays.copyOfRange(e.tokens(), i, j), Arrays.copyOfRange(e.targets(), i, j)));
        }
        return out;
    }
}
