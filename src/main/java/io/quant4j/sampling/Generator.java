package io.quant4j.sampling;

import io.quant4j.model.InferenceSession;

import java.util.Arrays;
import java.util.function.IntPredicate;

/**
 * The token loop behind {@code generate}: feeds the prompt, then samples and feeds one token at a time until an
 * end-of-generation token, the token limit, a full context, or the listener says stop.
 *
 * <p>Session state on return (sampling path): every returned token has been fed, so a chat can continue from it,
 * except the end-of-generation token (never fed) and a token chosen when the context was already full (which
 * cannot be; then {@code position() == contextLength()}). The prompt is fed at the session's current position, so
 * a session may carry earlier turns; the penalty history is this call's prompt and output only.
 */
public final class Generator {
    private Generator() {
    }

    /**
     * Samples up to {@code maxNewTokens} tokens after {@code prompt}.
     *
     * @param isEndOfGeneration true for tokens that end the generation (EOS, end-of-turn)
     * @param listener          called with each new token, in order
     */
    public static GenerationResult generate(InferenceSession session, int[] prompt, int maxNewTokens, Sampler sampler,
                                            IntPredicate isEndOfGeneration, TokenListener listener) {
        checkArguments(session, prompt, maxNewTokens);
        long t0 = System.nanoTime();
        float[] logits = session.forward(prompt);
        long promptNanos = System.nanoTime() - t0;

        // The last token needs no feeding, so one more token than the free context can be generated.
        int limit = Math.min(maxNewTokens, session.contextLength() - session.position() + 1);
        // The sampler's penalty window sees the prompt, as llama.cpp's does.
        int[] history = Arrays.copyOf(prompt, prompt.length + limit);
        int historyLength = prompt.length;
        int generated = 0;
        int endToken = -1;
        int decodeCalls = 0;
        int sampled = 0;
        long decodeNanos = 0;
        long sampleNanos = 0;
        StopReason reason;
        while (true) {
            if (generated == limit) {
                reason = generated == maxNewTokens ? StopReason.MAX_TOKENS : StopReason.CONTEXT_FULL;
                break;
            }
            long s0 = System.nanoTime();
            int token = sampler.sample(logits, history, historyLength);
            sampleNanos += System.nanoTime() - s0;
            sampled++;
            if (isEndOfGeneration.test(token)) {
                endToken = token;
                reason = StopReason.END_OF_GENERATION;
                break;
            }
            history[historyLength++] = token;
            generated++;
            boolean goOn = listener.onToken(token);
            if (session.position() < session.contextLength()) {
                long d0 = System.nanoTime();
                logits = session.forward(token);
                decodeNanos += System.nanoTime() - d0;
                decodeCalls++;
            }
            if (!goOn) {
                reason = StopReason.STOPPED_BY_LISTENER;
                break;
            }
        }
        int[] tokens = Arrays.copyOfRange(history, prompt.length, historyLength);
        return new GenerationResult(tokens, endToken, reason,
                new GenerationTimings(prompt.length, promptNanos, decodeCalls, decodeNanos, sampled, sampleNanos));
    }

    /**
     * Beam search with {@code numBeams} beams (1 is greedy) after {@code prompt}; the listener then receives the
     * best sequence's tokens in order and may cut it short. The session is consumed: its state on return is
     * unspecified (it became one of the beams).
     */
    public static GenerationResult beamSearch(InferenceSession session, int[] prompt, int maxNewTokens, int numBeams,
                                              IntPredicate isEndOfGeneration, TokenListener listener) {
        checkArguments(session, prompt, maxNewTokens);
        BeamSearch search = new BeamSearch(numBeams);
        long t0 = System.nanoTime();
        float[] logits = session.forward(prompt);
        long t1 = System.nanoTime();
        BeamSearch.Result result = search.search(session, logits, maxNewTokens, isEndOfGeneration);
        long t2 = System.nanoTime();

        Hypothesis best = result.best();
        int[] tokens = best.tokens();
        StopReason reason;
        if (best.endedWithEos()) {
            reason = StopReason.END_OF_GENERATION;
        } else if (tokens.length < maxNewTokens) {
            reason = StopReason.CONTEXT_FULL;
        } else {
            reason = StopReason.MAX_TOKENS;
        }
        for (int i = 0; i < tokens.length; i++) {
            if (!listener.onToken(tokens[i])) {
                tokens = Arrays.copyOf(tokens, i + 1);
                reason = StopReason.STOPPED_BY_LISTENER;
                break;
            }
        }
        int endToken = reason == StopReason.END_OF_GENERATION ? best.endToken() : -1;
        return new GenerationResult(tokens, endToken, reason,
                new GenerationTimings(prompt.length, t1 - t0, result.forwardCalls(), t2 - t1, 0, 0));
    }

    private static void checkArguments(InferenceSession session, int[] prompt, int maxNewTokens) {
        if (prompt.length == 0) {
            throw new IllegalArgumentException("the prompt is empty (it needs at least the BOS token)");
        }
        if (maxNewTokens < 0) {
            throw new IllegalArgumentException("max new tokens must be >= 0, got " + maxNewTokens);
        }
        int room = session.contextLength() - session.position();
        if (prompt.length > room) {
            throw new IllegalArgumentException("the prompt has " + prompt.length + " tokens but the context has room for "
                    + room + " (context length " + session.contextLength() + ")");
        }
    }
}
