package io.quant4j.tensor;

import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.ForkJoinTask;
import java.util.concurrent.RecursiveAction;

/**
 * A fixed pool sized to the cores (or {@code -t}) for splitting matrix rows across threads. Small jobs run on the
 * calling thread: forking costs more than it saves below a few thousand multiply-adds per task.
 */
public final class Parallel {
    private static volatile ForkJoinPool pool = new ForkJoinPool(Runtime.getRuntime().availableProcessors());
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
    }

    public static int threads() {
        return pool.getParallelism();
    }

    @FunctionalInterface
    public interface RangeBody {
        void run(int from, int to);
    }

    /** Runs body over [0, n) in contiguous chunks; {@code workPerItem} estimates the cost of one item. */
    public static void forRange(int n, long workPerItem, RangeBody body) {
        int threads = pool.getParallelism();
        long total = (long) n * Math.max(1, workPerItem);
        int tasks = (int) Math.min(threads * 4L, Math.max(1, total / MIN_WORK_PER_TASK));
        tasks = Math.min(tasks, n);
        if (tasks <= 1 || threads == 1) {
            body.run(0, n);
            return;
        }
        pool.invoke(new Chunk(body, 0, n, Math.max(1, (n + tasks - 1) / tasks)));
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

    /** out = W · x, rows split across the pool. */
    public static void matVec(WeightMatrix w, float[] x, float[] out) {
        forRange(w.rows(), w.cols(), (from, to) -> w.matVec(x, out, from, to));
    }
}
