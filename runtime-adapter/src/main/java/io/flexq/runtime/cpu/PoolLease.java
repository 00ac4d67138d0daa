package io.flexq.runtime.cpu;

import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The thread pool of the matrices a CPU backend loaded, when the backend made it itself (found by
 * {@link java.util.ServiceLoader}, no pool given): started by the first matrix, shut down when the last matrix
 * holding it closes. A model closes its matrices, so its pool ends with it; a backend instance reused for another
 * model starts a new pool. A pool given by the caller is only borrowed and never shut down here.
 */
public final class PoolLease {

    private final int threads;
    private final ForkJoinPool given;
    private ForkJoinPool pool;
    private int holders;

    private PoolLease(int threads, ForkJoinPool given) {
        this.threads = threads;
        this.given = given;
    }

    /** Leases of a pool of {@code threads} workers made on demand and shut down with its last holder. */
    public static PoolLease owned(int threads) {
        if (threads < 1) {
            throw new IllegalArgumentException("a pool needs at least 1 thread, got " + threads);
        }
        return new PoolLease(threads, null);
    }

    /** Leases of a pool the caller owns (and shuts down). */
    public static PoolLease borrowed(ForkJoinPool pool) {
        return new PoolLease(pool.getParallelism(), pool);
    }

    /** Threads of the pool: {@code -Dflexq.threads}, else every processor the JVM may use. */
    public static int defaultThreads() {
        return Math.max(1, Integer.getInteger("flexq.threads", Runtime.getRuntime().availableProcessors()));
    }

    public int threads() {
        return threads;
    }

    /** A hold on the pool (starting it if no one holds it); close the hold once. */
    public synchronized Hold acquire() {
        if (given != null) {
            return new Hold(given, null);
        }
        if (pool == null) {
            pool = new ForkJoinPool(threads);
        }
        holders++;
        return new Hold(pool, this);
    }

    private synchronized void release(ForkJoinPool p) {
        if (p == pool && --holders == 0) {
            pool.shutdown(); // idle workers exit now; a task still running finishes first
            pool = null;
        }
    }

    /** One matrix's use of the pool; {@link #close()} is idempotent. */
    public static final class Hold implements AutoCloseable {
        private final ForkJoinPool pool;
        private final PoolLease owner;
        private final AtomicBoolean closed = new AtomicBoolean();

        private Hold(ForkJoinPool pool, PoolLease owner) {
            this.pool = pool;
            this.owner = owner;
        }

        public ForkJoinPool pool() {
            return pool;
        }

        @Override
        public void close() {
            if (closed.compareAndSet(false, true) && owner != null) {
                owner.release(pool);
            }
        }
    }
}
