package io.flexq.runtime.cpu;

import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The thread pool of the matrices a CPU backend loaded, when the backend made it itself (found by
 * {@link java.util.ServiceLoader}, no pool given): started by the first matrix, shut down when the last matrix
 * holding it closes. A model closes its matrices, so its pool ends with it; a backend instance reused for another
 * model starts a new pool. A pool given by the caller is only borrowed and never shut down here.
 *
 * <p>An owned lease also holds a {@link SpinTeam} of the same thread count, with the same lifetime, for the matmuls
 * (decode steps and prompts) and the other parallel steps of a forward: its workers spin between the matmuls of a
 * token instead of parking, and a prompt's steps all run on the same threads. {@code
 * -Dflexq.cpu.pool=forkjoin} leaves it out (every matmul on the fork-join pool, for A/B runs); a borrowed fork-join
 * pool never has one (its caller chose how matmuls run).
 */
public final class PoolLease {

    private final int threads;
    private final ForkJoinPool given;
    /** Whether {@link #acquire()} makes a team alongside the pool. */
    private final boolean teams;
    private final long spinNanos;
    private ForkJoinPool pool;
    private SpinTeam team;
    private int holders;

    private PoolLease(int threads, ForkJoinPool given, boolean teams, long spinNanos) {
        this.threads = threads;
        this.given = given;
        // a one-thread team starts no thread: what runs on it (a decode step's attention) stays on the caller
        this.teams = teams;
        this.spinNanos = spinNanos;
    }

    /**
     * Leases of a pool of {@code threads} workers made on demand and shut down with its last holder, with a
     * {@link SpinTeam} for the matmuls unless {@code -Dflexq.cpu.pool=forkjoin}.
     */
    public static PoolLease owned(int threads) {
        return owned(threads, decodeOnTeam());
    }

    /** As {@link #owned(int)}, with or without the team whatever the property says (A/B in one JVM, tests). */
    public static PoolLease owned(int threads, boolean spinTeam) {
        if (threads < 1) {
            throw new IllegalArgumentException("a pool needs at least 1 thread, got " + threads);
        }
        return new PoolLease(threads, null, spinTeam, SpinTeam.configuredSpinNanos());
    }

    /**
     * Whether matmuls run on a {@link SpinTeam}: {@code -Dflexq.cpu.pool=spin} (default) or on the
     * fork-join pool: {@code forkjoin}.
     */
    static boolean decodeOnTeam() {
        String v = System.getProperty("flexq.cpu.pool", "spin").strip();
        return switch (v) {
            case "spin" -> true;
            case "forkjoin" -> false;
            default -> throw new IllegalArgumentException("-Dflexq.cpu.pool=" + v + ": expected spin or forkjoin");
        };
    }

    /** Leases of a pool the caller owns (and shuts down). */
    public static PoolLease borrowed(ForkJoinPool pool) {
        return new PoolLease(pool.getParallelism(), pool, false, 0);
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
            return new Hold(given, null, null);
        }
        if (pool == null) {
            pool = new ForkJoinPool(threads);
            team = teams ? new SpinTeam(threads, spinNanos) : null; // its workers start with its first job
        }
        holders++;
        return new Hold(pool, team, this);
    }

    private synchronized void release(ForkJoinPool p) {
        if (p == pool && --holders == 0) {
            pool.shutdown(); // idle workers exit now; a task still running finishes first
            pool = null;
            if (team != null) {
                team.close();
                team = null;
            }
        }
    }

    /** One matrix's use of the pool; {@link #close()} is idempotent. */
    public static final class Hold implements AutoCloseable {
        private final ForkJoinPool pool;
        private final SpinTeam team;
        private final PoolLease owner;
        private final AtomicBoolean closed = new AtomicBoolean();

        private Hold(ForkJoinPool pool, SpinTeam team, PoolLease owner) {
            this.pool = pool;
            this.team = team;
            this.owner = owner;
        }

        public ForkJoinPool pool() {
            return pool;
        }

        /**
         * The team for the matmuls (with one thread, one that runs everything on the caller), or null: run
         * them on {@link #pool()} (-Dflexq.cpu.pool=forkjoin, or a borrowed pool).
         */
        public SpinTeam team() {
            return team;
        }

        @Override
        public void close() {
            if (closed.compareAndSet(false, true) && owner != null) {
                owner.release(pool);
            }
        }
    }
}
