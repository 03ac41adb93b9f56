package io.quant4j.tokenizer;

/**
 * The special token ids a vocabulary declares (-1 = none) and whether BOS is added when encoding.
 * eot/eom are the end-of-turn and end-of-message ids some chat models declare besides eos.
 */
record SpecialIds(int bos, int eos, int eot, int eom, int unknown, int padding, boolean addBos) {
    static final int NONE = -1;
}
