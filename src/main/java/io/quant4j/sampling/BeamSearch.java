package io.quant4j.sampling;

import io.quant4j.model.InferenceSession;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.IntPredicate;

/**
 * Beam search as transformers' {@code generate(num_beams=n, length_penalty=1.0, early_stopping=False)} does it:
 * each step ranks every (beam, token) continuation by summed log-probability, keeps the best {@code 2n}, sends
 * those ending in an end-of-generation token (when ranked in the top n) to a bounded set of finished hypotheses
 * scored by {@code sum / length^lengthPenalty}, and continues the n best others. It stops at the length limit
 * (the running beams then join the finished set) or when the finished set is full and its worst score is at
 * least the best candidate's sum over the current length (transformers' heuristic for "no running beam can
 * still win").
 *
 * <p>It works only through {@link InferenceSession}: a beam chosen by several children is copied before any of
 * them feeds its token, and beams with no child are dropped first, so at most {@code n} sessions are alive.
 * The session passed in becomes one of the beams: on return its state is unspecified.
 */
public final class BeamSearch {
    private final int numBeams;
    private final double lengthPenalty;

    public BeamSearch(int numBeams) {
        this(numBeams, 1.0);
    }

    public BeamSearch(int numBeams, double lengthPenalty) {
        if (numBeams < 1) {
            throw new IllegalArgumentException("number of beams must be >= 1, got " + numBeams);
        }
        if (!Double.isFinite(lengthPenalty)) {
            throw new IllegalArgumentException("length penalty must be finite, got " + lengthPenalty);
        }
        this.numBeams = numBeams;
        this.lengthPenalty = lengthPenalty;
    }

    public int numBeams() {
        return numBeams;
    }

    /**
     * @param best         the highest-scoring hypothesis
     * @param steps        decoding steps taken
     * @param forwardCalls tokens fed to sessions
     * @param sessionCopies sessions copied when beams forked
     */
    public record Result(Hypothesis best, int steps, int forwardCalls, int sessionCopies) {
        public int[] tokens() {
            return best.tokens();
        }

        public double score() {
            return best.score();
        }
    }

    /** A live beam: its session, tokens so far, summed log-probability and its best next-token continuations. */
    private static final class Beam {
        InferenceSession session;
        final int[] tokens;
        final double logProb;
        int[] nextTokens;
        double[] nextLogProbs;

        Beam(InferenceSession session, int[] tokens, double logProb) {
            this.session = session;
            this.tokens = tokens;
            this.logProb = logProb;
        }

        /** Reads the session's logits at once: the buffer is only valid until that session's next forward. */
        void rankContinuations(float[] logits, int width) {
            nextTokens = new int[width];
            int n = TokenRanking.top(logits, width, nextTokens);
            double logZ = logSumExp(logits);
            nextLogProbs = new double[n];
            for (int i = 0; i < n; i++) {
                nextLogProbs[i] = logits[nextTokens[i]] - logZ;
            }
        }
    }

    /** A continuation: the parent beam, the token, the new summed log-probability. */
    private record Candidate(int parent, int token, double logProb) {
    }

    /**
     * Runs beam search from {@code session}, which has been fed the prompt and whose latest logits are
     * {@code logits}. At most {@code maxNewTokens} tokens are generated, fewer if the context fills up.
     */
    public Result search(InferenceSession session, float[] logits, int maxNewTokens, IntPredicate isEndOfGeneration) {
        if (maxNewTokens < 0) {
            throw new IllegalArgumentException("max new tokens must be >= 0, got " + maxNewTokens);
        }
        // The last chosen token is never fed, so one more step than the free context fits.
        int maxSteps = Math.min(maxNewTokens, session.contextLength() - session.position() + 1);
        if (maxSteps <= 0) {
            return new Result(new Hypothesis(new int[0], -1, 0, 0), 0, 0, 0);
        }
        // 2n candidates, as transformers does, so that n can continue even when some of them end.
        int width = Math.min(2 * numBeams, session.vocabSize());
        FinishedHypotheses finished = new FinishedHypotheses(numBeams);
        List<Beam> running = new ArrayList<>(List.of(new Beam(session, new int[0], 0)));
        running.get(0).rankContinuations(logits, width);
        int forwardCalls = 0;
        int copies = 0;
        int step = 0;
        while (step < maxSteps) {
            step++;
            List<Candidate> candidates = bestCandidates(running, width);
            List<Candidate> continuing = new ArrayList<>(numBeams);
            for (int rank = 0; rank < candidates.size() && continuing.size() < numBeams; rank++) {
                Candidate c = candidates.get(rank);
                if (isEndOfGeneration.test(c.token())) {
                    // Like transformers, an end token only counts when it ranks among the top n.
                    if (rank < numBeams) {
                        finished.add(hypothesis(running.get(c.parent()).tokens, c.token(), c.logProb(), step));
                    }
                } else {
                    continuing.add(c);
                }
            }
            double bestPossible = candidates.get(0).logProb() / Math.pow(step, lengthPenalty);
            if (finished.isFull() && finished.worstScore() >= bestPossible) {
                break;
            }
            if (step == maxSteps || continuing.isEmpty()) {
                for (Candidate c : continuing) {
                    int[] tokens = append(running.get(c.parent()).tokens, c.token());
                    finished.add(hypothesis(tokens, -1, c.logProb(), step));
                }
                break;
            }
            int[] counts = advance(running, continuing, width);
            forwardCalls += counts[0];
            copies += counts[1];
        }
        return new Result(finished.best(), step, forwardCalls, copies);
    }

    /** The best {@code width} continuations over all beams: score descending, then beam, then token. */
    private static List<Candidate> bestCandidates(List<Beam> running, int width) {
        List<Candidate> all = new ArrayList<>();
        for (int b = 0; b < running.size(); b++) {
            Beam beam = running.get(b);
            for (int i = 0; i < beam.nextLogProbs.length; i++) {
                all.add(new Candidate(b, beam.nextTokens[i], beam.logProb + beam.nextLogProbs[i]));
            }
        }
        all.sort((x, y) -> {
            int c = Double.compare(y.logProb(), x.logProb());
            if (c != 0) {
                return c;
            }
            c = Integer.compare(x.parent(), y.parent());
            return c != 0 ? c : Integer.compare(x.token(), y.token());
        });
        return all.size() > width ? all.subList(0, width) : all;
    }

    /**
     * Replaces {@code running} by the continuing beams. Parents nobody continues are released first; a parent
     * continued k times is copied k-1 times before its own session feeds the first child's token.
     *
     * @return {forward calls, session copies}
     */
    private int[] advance(List<Beam> running, List<Candidate> continuing, int width) {
        int[] children = new int[running.size()];
        for (Candidate c : continuing) {
            children[c.parent()]++;
        }
        for (int b = 0; b < running.size(); b++) {
            if (children[b] == 0) {
                running.get(b).session = null;
            }
        }
        InferenceSession[] sessions = new InferenceSession[continuing.size()];
        boolean[] parentTaken = new boolean[running.size()];
        int copies = 0;
        for (int i = 0; i < continuing.size(); i++) {
            int p = continuing.get(i).parent();
            if (children[p] > 1 && !parentTaken[p]) {
                // Copy for every sibling still to come before the parent's session moves on.
                for (int j = i + 1; j < continuing.size(); j++) {
                    if (continuing.get(j).parent() == p) {
                        sessions[j] = running.get(p).session.copy();
                        copies++;
                    }
                }
            }
            if (!parentTaken[p]) {
                sessions[i] = running.get(p).session;
                parentTaken[p] = true;
            }
        }
        List<Beam> next = new ArrayList<>(continuing.size());
        for (int i = 0; i < continuing.size(); i++) {
            Candidate c = continuing.get(i);
            Beam beam = new Beam(sessions[i], append(running.get(c.parent()).tokens, c.token()), c.logProb());
            beam.rankContinuations(sessions[i].forward(c.token()), width);
            next.add(beam);
        }
        running.clear();
        running.addAll(next);
        return new int[]{continuing.size(), copies};
    }

    private Hypothesis hypothesis(int[] tokens, int endToken, double logProb, int length) {
        return new Hypothesis(tokens, endToken, logProb, logProb / Math.pow(length, lengthPenalty));
    }

    private static int[] append(int[] tokens, int token) {
        int[] out = Arrays.copyOf(tokens, tokens.length + 1);
        out[tokens.length] = token;
        return out;
    }

    static double logSumExp(float[] logits) {
        float max = Float.NEGATIVE_INFINITY;
        for (float v : logits) {
            max = Math.max(max, v);
        }
        double sum = 0;
        for (float v : logits) {
            sum += Math.exp((double) v - max);
        }
        return max + Math.log(sum);
    }
}
