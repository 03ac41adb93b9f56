package io.quant4j.sampling;

/** Why a generation ended. */
public enum StopReason {
    /** The model produced an end-of-generation token (not included in the result's tokens). */
    END_OF_GENERATION,
    /** The requested number of new tokens was produced. */
    MAX_TOKENS,
    /** The session's context is full. */
    CONTEXT_FULL,
    /** The token listener asked to stop (for instance on a chat stop string). */
    STOPPED_BY_LISTENER
}
