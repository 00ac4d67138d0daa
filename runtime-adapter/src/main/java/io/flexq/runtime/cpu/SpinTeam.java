package io.flexq.runtime.cpu;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import java.util.function.IntConsumer;

/**
 * A fixed team of {@code threads - 1} daemon workers plus the calling thread that run the chunks of one matmul
 * after another without the OS wake-ups of a fork-join pool. A decode step is ~60 small matmuls (tens of
 * microseconds each) separated by short serial work (norms, RoPE, attention); a pool that parks its workers between
 * them pays a futex wake-up per worker per matmul (11% of a 27M decode step, bench/results/cpu-vs-llamacpp.md).
 * Here an idle worker spins ({@link Thread#onSpinWait}) for up to {@code spinNanos} waiting for the next job, and
 * only then parks: during a decode the next matmul arrives within the spin and the hand-off is a cache-line read.
 *
 * <p>A job is chunks {@code [0, n)}; the caller and the workers claim chunk indices from one counter, so every chunk
 * runs exactly once, on whichever thread claims it. What a chunk computes does not depend on the thread, so results
 * are those of running the chunks in order on one thread. The caller always claims chunks too, so a job finishes even
 * if no worker sees it (a closed team, workers descheduled, or two callers posting jobs at once: a worker helps
 * whichever job it saw last). Workers start with the first job and end with {@link #close()}.
 *
 * <p>On a machine with more runnable threads than cores a spinning team can collapse: a worker preempted while it
 * holds a chunk makes the caller wait a whole scheduler slice (llama.cpp's spin barriers fall to a few tok/s so
 * here). Two defences: spinning threads call {@link Thread#yield} after a short pure spin, so a preempted team
 * thread gets the core back; and a job whose caller waited longer for the workers than running every chunk itself
 * would have taken is a stall, and a stall that repeats within {@value #REPEAT_JOBS} jobs of the last one is a strike,
 * after which the next jobs run on the caller alone (4, 8, ... up to 1024 jobs as strikes repeat, fewer again after
 * clean jobs). A single stall is not a strike: on a shared virtual machine a core is taken away now and then for a few
 * milliseconds (hypervisor steal), and one 16-thread prompt matmul run on the caller alone costs more than such a
 * stall (27M model, GPU host: 4 single stalls in 10 prompts put 16 prompt matmuls on one thread). Persistent
 * oversubscription stalls job after job, so its second stall starts the back-off. Nor does a back-off outlive its use:
 * a job run on the caller alone that took longer than the stall that started the back-off ends it (those jobs are
 * too large to be worth keeping off the workers). A job that had to wake a parked worker is never a stall: the first
 * job after a long serial stretch (a prompt's embedding, a decode step's sampling) paid a wake-up, not a busy core,
 * and a strike there would put the next jobs (a prompt's first matmuls) on one thread. Either way every chunk runs
 * once and the results are the same.
 */
public final class SpinTeam implements AutoCloseable {

    /** Prefix of the worker threads' names (tests and thread dumps look for it). */
    public static final String THREAD_PREFIX = "flexq-cpu-team-";
    /** How long an idle worker (or a caller waiting for the last chunks) spins before it parks. */
    public static final long DEFAULT_SPIN_NANOS = 200_000;

    private static final AtomicInteger TEAMS = new AtomicInteger();
    /** Spinning threads spin this long without yielding the core. */
    private static final long PURE_SPIN_NANOS = 20_000;
    /** A caller's wait for the workers counts as a stall only beyond this (a chunk's normal imbalance is less). */
    private static final long STALL_NANOS = 20_000;
    private static final int MAX_STRIKES = 8;
    /** A stall within this many jobs of the previous one is a strike (a repeat, not a one-off preemption). */
    static final int REPEAT_JOBS = 16;

    private final int threads;
    private final long spinNanos;
    private final Worker[] workers;
    private final int id = TEAMS.incrementAndGet();
    private volatile Job job;
    private volatile boolean closed;
    private volatile boolean started;
    /** Back-off state (heuristic: plain fields, a lost update between two callers only shifts when it ends). */
    private int strikes;
    private int serialJobs;
    /** Jobs handed to the workers so far, the job of the last stall (-1: none yet), and that stall's wait. */
    private long parallelJobs;
    private long lastStallJob = -1;
    private long lastStallNanos;
    /**
     * Counts over every team of the process, for diagnostics ({@link #counts}), kept only while
     * {@code -Dflexq.cpu.profile=true} (the property of the runtime's prompt profile, which prints them): no
     * shared-counter updates on the job path otherwise.
     */
    private static final boolean COUNTING = Boolean.getBoolean("flexq.cpu.profile");
    private static final java.util.concurrent.atomic.LongAdder JOBS = new java.util.concurrent.atomic.LongAdder(),
            BACKED_OFF = new java.util.concurrent.atomic.LongAdder(), STRIKES = new java.util.concurrent.atomic.LongAdder(),
            STALLS = new java.util.concurrent.atomic.LongAdder(),
            WAKE_UPS = new java.util.concurrent.atomic.LongAdder();

    /**
     * @param threads   threads a job runs on, the caller included ({@code threads - 1} workers)
     * @param spinNanos how long idle threads spin before they park (0: park at once)
     */
    public SpinTeam(int threads, long spinNanos) {
        if (threads < 1) {
            throw new IllegalArgumentException("a team needs at least 1 thread, got " + threads);
        }
        if (spinNanos < 0) {
            throw new IllegalArgumentException("spin time must be >= 0 ns, got " + spinNanos);
        }
        this.threads = threads;
        this.spinNanos = spinNanos;
        this.workers = new Worker[threads - 1];
    }

    /** Spin time from {@code -Dflexq.cpu.spinMicros} (default {@value #DEFAULT_SPIN_NANOS} ns). */
    public static long configuredSpinNanos() {
        String v = System.getProperty("flexq.cpu.spinMicros");
        if (v == null) {
            return DEFAULT_SPIN_NANOS;
        }
        try {
            long us = Long.parseLong(v.strip());
            if (us >= 0 && us <= 1_000_000) {
                return us * 1000;
            }
        } catch (NumberFormatException ignored) {
            // reported below
        }
        throw new IllegalArgumentException("-Dflexq.cpu.spinMicros=" + v + ": expected microseconds 0..1000000");
    }

    public int threads() {
        return threads;
    }

    /**
     * Runs {@code body.accept(i)} for every i in [0, chunks) across the team and returns when all have finished.
     * A chunk that throws does not stop the others; the first failure is rethrown here. After {@link #close()} the
     * caller runs every chunk itself.
     */
    public void run(int chunks, IntConsumer body) {
        if (chunks <= 0) {
            return;
        }
        if (chunks == 1 || workers.length == 0 || closed || serialJobs > 0) {
            boolean backedOff = serialJobs > 0;
            long s0 = backedOff ? System.nanoTime() : 0;
            if (backedOff) {
                serialJobs--;
                count(BACKED_OFF);
            }
            for (int i = 0; i < chunks; i++) {
                body.accept(i);
            }
            if (backedOff && System.nanoTime() - s0 > lastStallNanos) {
                serialJobs = 0; // this job alone cost more than the stall the back-off avoids
            }
            return;
        }
        if (!started) {
            start();
        }
        Job j = new Job(body, chunks);
        count(JOBS);
        parallelJobs++;
        long t0 = System.nanoTime();
        job = j;
        boolean woke = false;
        for (Worker w : workers) {
            if (w.parked) {
                LockSupport.unpark(w);
                woke = true;
            }
        }
        int mine = j.work();
        long t1 = System.nanoTime();
        j.await(spinNanos);
        long waited = System.nanoTime() - t1;
        if (woke) {
            // a parked worker's wake-up (tens of microseconds in a VM) delayed its first chunk: not a busy machine
            count(WAKE_UPS);
        } else if (isStall(t1 - t0, waited, mine, chunks)) {
            stalled(waited);
        } else if (strikes > 0) {
            strikes--;
        }
        Throwable f = j.failure;
        if (f instanceof RuntimeException e) {
            throw e;
        }
        if (f instanceof Error e) {
            throw e;
        }
    }

    /**
     * Whether a job was a loss: the caller ran {@code mine} of the {@code chunks} chunks in {@code ownNanos}, so all
     * of them alone would have taken about {@code ownNanos * chunks / mine}, and its wait for the workers' chunks
     * ({@code waitedNanos}, beyond normal imbalance) made the job take longer than that. With {@code mine == 0} the
     * workers took every chunk, so they are running: no estimate, no stall.
     */
    static boolean isStall(long ownNanos, long waitedNanos, int mine, int chunks) {
        return mine > 0 && waitedNanos > STALL_NANOS && ownNanos + waitedNanos > ownNanos * chunks / mine;
    }

    /**
     * Records a stalled job whose caller waited {@code waitedNanos} for the workers: a strike if the previous stall
     * was at most {@value #REPEAT_JOBS} jobs before it.
     */
    void stalled(long waitedNanos) {
        stalled(parallelJobs, waitedNanos);
    }

    /** As {@link #stalled(long)} for the stall of job number {@code job} (tests give the number). */
    void stalled(long job, long waitedNanos) {
        count(STALLS);
        boolean repeat = lastStallJob >= 0 && job - lastStallJob <= REPEAT_JOBS;
        lastStallJob = job;
        lastStallNanos = waitedNanos;
        if (repeat) {
            strike();
        }
    }

    /** Forgets the stalls and strikes so far (tests: a stall measured while a test starts the workers). */
    void forgetStalls() {
        lastStallJob = -1;
        strikes = 0;
        serialJobs = 0;
    }

    /** Records a strike: the next {@code 2 << strikes} jobs run on the caller alone. */
    void strike() {
        count(STRIKES);
        strikes = Math.min(strikes + 1, MAX_STRIKES);
        serialJobs = 2 << strikes;
    }

    private synchronized void start() {
        if (started || closed) {
            return;
        }
        for (int i = 0; i < workers.length; i++) {
            workers[i] = new Worker(THREAD_PREFIX + id + "-" + (i + 1));
            workers[i].start();
        }
        started = true;
    }

    /** Workers exit (a parked one is woken to do so); jobs already running finish. Idempotent. */
    @Override
    public synchronized void close() {
        closed = true;
        if (started) {
            for (Worker w : workers) {
                LockSupport.unpark(w);
            }
        }
    }

    /**
     * Since the process started (or the last reset), while profiling: jobs handed to workers, jobs a team ran on the
     * caller alone after a strike, stalls, strikes (repeated stalls), and jobs that had to wake a parked worker.
     */
    public static String counts(boolean reset) {
        String s = "team jobs " + JOBS.sum() + ", run on the caller after strikes " + BACKED_OFF.sum() + ", stalls "
                + STALLS.sum() + ", strikes (repeated stalls) " + STRIKES.sum() + ", jobs that woke a parked worker "
                + WAKE_UPS.sum();
        if (reset) {
            JOBS.reset();
            BACKED_OFF.reset();
            STRIKES.reset();
            STALLS.reset();
            WAKE_UPS.reset();
        }
        return s;
    }

    private static void count(java.util.concurrent.atomic.LongAdder counter) {
        if (COUNTING) {
            counter.increment();
        }
    }

    /** Jobs the back-off still puts on the caller alone (tests). */
    int backedOffJobsLeft() {
        return serialJobs;
    }

    /** The worker threads (empty before the first job), for tests and diagnostics. */
    public synchronized java.util.List<Thread> workerThreads() {
        return started ? java.util.List.of(workers) : java.util.List.of();
    }

    @Override
    public String toString() {
        return "SpinTeam[" + threads + " threads, spin " + spinNanos / 1000 + " us" + (closed ? ", closed" : "") + "]";
    }

    /** One matmul's chunks: a claim counter and a completion counter. */
    private static final class Job {
        final IntConsumer body;
        final int chunks;
        final AtomicInteger next = new AtomicInteger();
        final AtomicInteger done = new AtomicInteger();
        volatile Thread waiter;
        volatile Throwable failure;

        Job(IntConsumer body, int chunks) {
            this.body = body;
            this.chunks = chunks;
        }

        /** Claims and runs chunks until none is left; returns how many this thread ran. */
        int work() {
            int ran = 0;
            for (int i; (i = next.getAndIncrement()) < chunks; ran++) {
                try {
                    body.accept(i);
                } catch (Throwable t) {
                    if (failure == null) {
                        failure = t;
                    }
                } finally {
                    if (done.incrementAndGet() == chunks) {
                        Thread w = waiter;
                        if (w != null) {
                            LockSupport.unpark(w);
                        }
                    }
                }
            }
            return ran;
        }

        /** Caller: waits until every chunk has finished (spins, then parks until the last chunk's thread wakes it). */
        void await(long spinNanos) {
            if (done.get() == chunks) {
                return;
            }
            long start = System.nanoTime();
            for (int spins = 0; done.get() < chunks; spins++) {
                if ((spins & 15) == 15) {
                    long spun = System.nanoTime() - start;
                    if (spun > spinNanos) {
                        waiter = Thread.currentThread();
                        while (done.get() < chunks) {
                            LockSupport.park(this);
                        }
                        return;
                    }
                    if (spun > PURE_SPIN_NANOS) {
                        Thread.yield(); // a worker holding a chunk may be waiting for this core
                    }
                }
                Thread.onSpinWait();
            }
        }
    }

    private final class Worker extends Thread {
        volatile boolean parked;

        Worker(String name) {
            super(name);
            setDaemon(true);
        }

        @Override
        public void run() {
            Job seen = null;
            while (true) {
                Job j = next(seen);
                if (j == null) {
                    return;
                }
                seen = j;
                j.work();
            }
        }

        /** The next job other than {@code seen}, or null once the team is closed. */
        private Job next(Job seen) {
            long start = System.nanoTime();
            for (int spins = 0; ; spins++) {
                Job j = job;
                if (closed) {
                    return null;
                }
                if (j != seen) {
                    return j;
                }
                if ((spins & 15) == 15) {
                    long spun = System.nanoTime() - start;
                    if (spun > spinNanos) {
                        // park; a caller that posts after reading parked == false is seen by the re-check
                        parked = true;
                        if (job == seen && !closed) {
                            LockSupport.park(SpinTeam.this);
                        }
                        parked = false;
                        start = System.nanoTime();
                        spins = 0;
                        continue;
                    }
                    if (spun > PURE_SPIN_NANOS) {
                        Thread.yield(); // the caller (or another process) may need this core for the serial part
                    }
                }
                Thread.onSpinWait();
            }
        }
    }
}
