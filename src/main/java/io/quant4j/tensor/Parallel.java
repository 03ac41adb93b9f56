package io.quant4j.tensor;

import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.ForkJoinTask;
import java.util.concurrent.RecursiveAction;

/**
 * Threads sized to the cores (or {@code -t}) for splitting matrix rows: {@link #forRange} runs on a {@link Team}
 * (caller plus resident spinning workers). Small jobs run on the calling thread: splitting costs more than it
 * saves below a few thousand multiply-adds per task. The ForkJoinPool is kept, at the same size, for callers that
 * want a pool to submit to.
 */
public final class Parallel {
    private static volatile ForkJoinPool pool = new ForkJoinPool(Runtime.getRuntime().availableProcessors());
    private static volatile Team team = new Team(Runtime.getRuntime().availableProcessors());
    private static final long MIN_WORK_PER_TASK = 1 << 15;

    private Parallel() {
    }

    public static synchronized void setThreads(int threads) {
        if (threads < 1) {
            throw new IllegalArgumentException("threads must be >= 1, got " + threads);
        }
        if (pool.getParallelism() != threads) {
            ForkJoinPool old = pool;
            pool = new ForkJoinPool(threads);
            old.shutdown();
        }
        if (team.size() != threads) {
            Team old = team;
            team = new Team(threads);
            old.close();
        }
    }

    public static int threads() {
        return team.size();
    }

    @FunctionalInterface
    public interface RangeBody {
        void run(int from, int to);
    }

    /** Runs body over [0, n) in contiguous chunks; {@code workPerItem} estimates the cost of one item. */
    public static void forRange(int n, long workPerItem, RangeBody body) {
        Team t = team;
        int threads = t.size();
        long total = (long) n * Math.max(1, workPerItem);
        int tasks = (int) Math.min(threads * 4L, Math.max(1, total / MIN_WORK_PER_TASK));
        tasks = Math.min(tasks, n);
        if (tasks <= 1 || threads == 1) {
            body.run(0, n);
            return;
        }
        t.run(body, n, tasks);
    }

    /**
     * Like {@link #forRange} but returns at once: the pool runs the chunks while the caller does something
     * else (I/O); {@link ForkJoinTask#join()} waits for them and rethrows their failure.
     */
    public static ForkJoinTask<?> forRangeAsync(int n, long workPerItem, RangeBody body) {
        ForkJoinPool p = pool;
        int threads = p.getParallelism();
        long total = (long) n * Math.max(1, workPerItem);
        int tasks = (int) Math.min(threads * 4L, Math.max(1, total / MIN_WORK_PER_TASK));
        tasks = Math.max(1, Math.min(tasks, n));
        return p.submit(new Chunk(body, 0, n, Math.max(1, (n + tasks - 1) / tasks)));
    }

    /** Recursive halving over the ForkJoinPool (for pool submissions; forRange uses the team). */
    private static final class Chunk extends RecursiveAction {
        private final RangeBody body;
        private final int from;
        private final int to;
        private final int grain;

        Chunk(RangeBody body, int from, int to, int grain) {
            this.body = body;
            this.from = from;
            this.to = to;
            this.grain = grain;
        }

        @Override
        protected void compute() {
            if (to - from <= grain) {
                body.run(from, to);
                return;
            }
            int mid = from + (to - from) / 2;
            invokeAll(new Chunk(body, from, mid, grain), new Chunk(body, mid, to, grain));
        }
    }

    private static final java.util.concurrent.atomic.AtomicInteger INPUT_VERSION = new java.util.concurrent.atomic.AtomicInteger();

    /** A fresh non-zero version for one product's input (see {@link WeightMatrix#matVec(float[], float[], int, int, int)}). */
    private static int nextInputVersion() {
        int v;
        do {
            v = INPUT_VERSION.incrementAndGet();
        } while (v == 0);
        return v;
    }

    /** out = W · x, rows split across the pool. */
    public static void matVec(WeightMatrix w, float[] x, float[] out) {
        int version = nextInputVersion();
        forRange(w.rows(), w.cols(), (from, to) -> w.matVec(x, out, from, to, version));
    }

    /**
     * Two or three products of the same input in one fork-join (q/k/v, gate/up): the rows of all matrices are one
     * range, so the pool is woken once and the threads finish together. {@code w3} may be null.
     */
    public static void matVec(float[] x, WeightMatrix w1, float[] o1, WeightMatrix w2, float[] o2, WeightMatrix w3, float[] o3) {
        int r1 = w1.rows();
        int r2 = r1 + w2.rows();
        int r3 = r2 + (w3 != null ? w3.rows() : 0);
        int version = nextInputVersion();
        forRange(r3, w1.cols(), (from, to) -> {
            if (from < r1) {
                w1.matVec(x, o1, from, Math.min(to, r1), version);
            }
            if (to > r1 && from < r2) {
                matVecShifted(w2, x, o2, Math.max(from, r1) - r1, Math.min(to, r2) - r1, version);
            }
            if (to > r2) {
                matVecShifted(w3, x, o3, Math.max(from, r2) - r2, to - r2, version);
            }
        });
    }

    private static void matVecShifted(WeightMatrix w, float[] x, float[] out, int from, int to, int version) {
        if (from < to) {
            w.matVec(x, out, from, to, version);
        }
    }

    /**
     * out[t·w.rows() + r] = W[r,:] · x[t·w.cols() ..] for {@code n} tokens: rows split across the pool in whole
     * {@link Gemm#MR}-row panels, each weight read once for the whole batch.
     */
    public static void matMul(WeightMatrix w, float[] x, int n, float[] out) {
        int rows = w.rows();
        int panels = (rows + Gemm.MR - 1) / Gemm.MR;
        forRange(panels, (long) Gemm.MR * w.cols() * n, (from, to) ->
                w.matMul(x, n, out, rows, from * Gemm.MR, Math.min(rows, to * Gemm.MR)));
    }
}
