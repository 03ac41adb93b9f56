package io.quant4j.train.data;

/** A piece of a training text and whether its tokens are prediction targets (responses yes, prompts no). */
public record Segment(String text, boolean trained) {
    public static Segment prompt(String text) {
        return new Segment(text, false);
    }

    public static Segment response(String text) {
        return new Segment(text, true);
    }
}
