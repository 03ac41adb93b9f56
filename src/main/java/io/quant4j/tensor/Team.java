package io.quant4j.tensor;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The threads behind {@link Parallel#forRange}: the caller plus {@code size − 1} resident workers, llama.cpp's
 * scheme. A job is published through one volatile field; workers that finished a job spin for a short while
 * ({@link #SPIN_NANOS}) before parking, so the next matrix of the same token finds them awake: a token runs
 * ~150 jobs of a fraction of a millisecond each, where waking parked threads (or ForkJoinPool's compensating
 * threads) would cost a noticeable share. Chunks are claimed from a counter, so a thread the OS delays does not
 * hold the others up. One job at a time: a second concurrent caller, or a nested call, runs its range inline.
 */
final class Team {
    private static final long SPIN_NANOS = 200_000;

    private final int size;
    private final Worker[] workers;
    private final ReentrantLock lock = new ReentrantLock();
    private volatile Job job;
    private volatile boolean closed;

    private static final class Job {
        final Parallel.RangeBody body;
        final int n;
        final int chunks;
        final AtomicInteger next = new AtomicInteger();
        final AtomicInteger done = new AtomicInteger();
        volatile Throwable error;

        Job(Parallel.RangeBody body, int n, int chunks) {
            this.body = body;
            this.n = n;
            this.chunks = chunks;
        }

        void work() {
            int c;
            while ((c = next.getAndIncrement()) < chunks) {
                try {
                    body.run((int) ((long) c * n / chunks), (int) ((long) (c + 1) * n / chunks));
                } catch (Throwable t) {
                    error = t;
                } finally {
                    done.incrementAndGet();
                }
            }
        }
    }

    private final class Worker extends Thread {
        volatile boolean parked;

        Worker(int i) {
            super("quant4j-worker-" + i);
            setDaemon(true);
        }

        @Override
        public void run() {
            Job last = null;
            long idleSince = System.nanoTime();
            while (!closed) {
                Job j = job;
                if (j != null && j != last) {
                    last = j;
                    j.work();
                    idleSince = System.nanoTime();
                } else if (System.nanoTime() - idleSince < SPIN_NANOS) {
                    Thread.onSpinWait();
                } else {
                    parked = true;
                    j = job;
                    if (j == null || j == last) {
                        LockSupport.park(this);
                    }
                    parked = false;
                    idleSince = System.nanoTime();
                }
            }
        }
    }

    Team(int size) {
        this.size = size;
        this.workers = new Worker[size - 1];
        for (int i = 0; i < workers.length; i++) {
            workers[i] = new Worker(i + 1);
            workers[i].start();
        }
    }

    int size() {
        return size;
    }

    boolean isWorker(Thread t) {
        return t instanceof Worker;
    }

    /** Runs body over [0, n) in {@code chunks} pieces on all threads; returns when every piece is done. */
    void run(Parallel.RangeBody body, int n, int chunks) {
        if (isWorker(Thread.currentThread()) || lock.isHeldByCurrentThread() || !lock.tryLock()) {
            body.run(0, n);
            return;
        }
        try {
            Job j = new Job(body, n, chunks);
            job = j;
            for (Worker w : workers) {
                if (w.parked) {
                    LockSupport.unpark(w);
                }
            }
            j.work();
            // Spin briefly for the last chunks; past that a worker was probably descheduled (an oversubscribed
            // machine), so give the core away instead of burning the time slice it needs.
            long spinUntil = System.nanoTime() + SPIN_NANOS / 4;
            while (j.done.get() < chunks) {
                if (System.nanoTime() < spinUntil) {
                    Thread.onSpinWait();
                } else {
                    Thread.yield();
                }
            }
            Throwable e = j.error;
            if (e instanceof RuntimeException re) {
                throw re;
            }
            if (e instanceof Error er) {
                throw er;
            }
            if (e != null) {
                throw new IllegalStateException(e);
            }
        } finally {
            lock.unlock();
        }
    }

    void close() {
        closed = true;
        for (Worker w : workers) {
            LockSupport.unpark(w);
        }
    }
}
