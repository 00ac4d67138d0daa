package io.flexq.runtime.cpu;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicIntegerArray;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link SpinTeam}: every chunk of every job runs exactly once (also with two callers posting at once), a failing
 * chunk reaches the caller without losing the others, idle workers park after the spin, and workers end with close.
 */
class SpinTeamTest {

    static final long SEED = 0x7EA4L;

    /** Two microseconds of work (timed, so the JIT cannot drop it), so workers get to claim chunks meanwhile. */
    static void busy(int i) {
        long end = System.nanoTime() + 2_000;
        while (System.nanoTime() < end) {
            Thread.onSpinWait();
        }
    }

    /** Posts {@code jobs} jobs of random chunk counts; returns failure lines (a chunk run 0 or 2+ times). */
    static List<String> runJobs(SpinTeam team, Random rnd, int jobs, Set<String> threadsSeen) {
        List<String> failures = new ArrayList<>();
        for (int j = 0; j < jobs; j++) {
            int chunks = 1 + rnd.nextInt(40);
            AtomicIntegerArray runs = new AtomicIntegerArray(chunks);
            team.run(chunks, i -> {
                busy(i);
                runs.incrementAndGet(i);
                threadsSeen.add(Thread.currentThread().getName());
            });
            for (int i = 0; i < chunks; i++) {
                if (runs.get(i) != 1 && failures.size() < 5) {
                    failures.add("job " + j + " (" + chunks + " chunks): chunk " + i + " ran " + runs.get(i) + " times");
                }
            }
        }
        return failures;
    }

    @Test
    void everyChunkRunsExactlyOnceAndWorkersTakeSome() {
        Set<String> seen = ConcurrentHashMap.newKeySet();
        try (SpinTeam team = new SpinTeam(3, SpinTeam.DEFAULT_SPIN_NANOS)) {
            List<String> failures = runJobs(team, new Random(SEED), 3000, seen);
            assertTrue(failures.isEmpty(), "seed " + SEED + ": " + failures);
        }
        assertTrue(seen.stream().anyMatch(n -> n.startsWith(SpinTeam.THREAD_PREFIX)),
                "no chunk of 3000 jobs ran on a worker, only on " + seen);
    }

    @Test
    void twoCallersPostingAtOnceEachGetAllTheirChunks() throws Exception {
        try (SpinTeam team = new SpinTeam(2, SpinTeam.DEFAULT_SPIN_NANOS)) {
            List<String> other = new ArrayList<>();
            Thread t = Thread.ofPlatform().start(() -> other.addAll(runJobs(team, new Random(SEED + 1), 1000,
                    ConcurrentHashMap.newKeySet())));
            List<String> mine = runJobs(team, new Random(SEED), 1000, ConcurrentHashMap.newKeySet());
            t.join(60_000);
            assertFalse(t.isAlive(), "the second caller did not finish");
            assertTrue(mine.isEmpty() && other.isEmpty(), "seeds " + SEED + ", " + (SEED + 1) + ": " + mine + " " + other);
        }
    }

    @Test
    void aFailingChunkReachesTheCallerAfterTheOthersRanAndTheTeamGoesOn() {
        try (SpinTeam team = new SpinTeam(3, SpinTeam.DEFAULT_SPIN_NANOS)) {
            AtomicIntegerArray runs = new AtomicIntegerArray(30);
            IllegalStateException boom = new IllegalStateException("chunk 7");
            IllegalStateException got = assertThrows(IllegalStateException.class, () -> team.run(30, i -> {
                busy(i);
                runs.incrementAndGet(i);
                if (i == 7) {
                    throw boom;
                }
            }));
            assertSame(boom, got);
            for (int i = 0; i < 30; i++) {
                assertEquals(1, runs.get(i), "chunk " + i + " of the failing job");
            }
            assertTrue(runJobs(team, new Random(SEED), 200, ConcurrentHashMap.newKeySet()).isEmpty());
        }
    }

    @Test
    void idleWorkersParkAfterTheSpinAndEndWithClose() throws InterruptedException {
        SpinTeam team = new SpinTeam(3, 1_000_000); // 1 ms of spinning
        team.run(8, SpinTeamTest::busy);
        List<Thread> workers = team.workerThreads();
        assertEquals(2, workers.size());
        for (Thread w : workers) {
            assertTrue(w.isDaemon(), w.getName() + " should be a daemon thread (a forgotten team must not keep the JVM)");
        }
        long deadline = System.nanoTime() + 5_000_000_000L;
        while (workers.stream().anyMatch(w -> w.getState() != Thread.State.WAITING) && System.nanoTime() < deadline) {
            Thread.sleep(10);
        }
        for (Thread w : workers) {
            assertEquals(Thread.State.WAITING, w.getState(), w.getName() + " still runs (spins) long after its spin time");
        }
        team.run(8, SpinTeamTest::busy); // parked workers are woken (or the caller runs it all): it finishes
        team.close();
        for (Thread w : workers) {
            w.join(5_000);
            assertFalse(w.isAlive(), w.getName() + " outlived close()");
        }
        AtomicIntegerArray runs = new AtomicIntegerArray(5);
        team.run(5, runs::incrementAndGet); // closed: the caller runs every chunk
        for (int i = 0; i < 5; i++) {
            assertEquals(1, runs.get(i));
        }
    }

    /**
     * The stall rule: a job is a loss when the caller's wait for the workers made it slower than the caller running
     * every chunk itself (estimated from its own chunks' time), beyond 20 us of normal imbalance.
     */
    @Test
    void aJobIsAStallOnlyWhenWaitingCostMoreThanRunningAlone() {
        // own 10 us for 8 of 16 chunks (alone: ~20 us); waited 100 us -> 110 us > 20 us
        assertTrue(SpinTeam.isStall(10_000, 100_000, 8, 16));
        // own 100 us for 8 of 16 (alone: ~200 us); waited 30 us -> 130 us: a gain, not a stall
        assertFalse(SpinTeam.isStall(100_000, 30_000, 8, 16));
        // waits under 20 us are imbalance, whatever the ratio
        assertFalse(SpinTeam.isStall(1_000, 15_000, 1, 2));
        // the workers ran every chunk: they are running
        assertFalse(SpinTeam.isStall(0, 1_000_000, 0, 16));
    }

    /**
     * After a repeated stall (a strike) the next jobs run on the caller alone (4 after the first strike), then the
     * workers again.
     */
    @Test
    void afterAStrikeTheNextJobsRunOnTheCallerAlone() {
        try (SpinTeam team = new SpinTeam(3, SpinTeam.DEFAULT_SPIN_NANOS)) {
            Thread caller = Thread.currentThread();
            team.run(8, SpinTeamTest::busy); // starts the workers
            team.forgetStalls(); // that job may have stalled on a loaded machine
            team.stalled(1_000_000_000L);
            assertEquals(0, team.backedOffJobsLeft(), "a single stall is no strike");
            team.stalled(1_000_000_000L); // a repeat: a strike; stalls of a second keep the back-off for small jobs
            assertEquals(4, team.backedOffJobsLeft());
            for (int j = 0; j < 4; j++) {
                Set<Thread> ran = ConcurrentHashMap.newKeySet();
                java.util.concurrent.atomic.AtomicBoolean waited = new java.util.concurrent.atomic.AtomicBoolean();
                team.run(64, i -> {
                    ran.add(Thread.currentThread());
                    // the first chunk waits (up to 50 ms) for a worker to show up: one that may take chunks, will
                    if (waited.compareAndSet(false, true)) {
                        for (long end = System.nanoTime() + 50_000_000L; ran.size() < 2 && System.nanoTime() < end; ) {
                            Thread.onSpinWait();
                        }
                    }
                });
                assertEquals(Set.of(caller), ran, "job " + j + " after a strike should run on the caller alone");
            }
            List<String> failures = runJobs(team, new Random(SEED), 500, ConcurrentHashMap.newKeySet());
            assertTrue(failures.isEmpty(), failures.toString());
        }
    }

    /**
     * One stall is not a strike (a core taken away once, as a shared virtual machine does now and then), nor are two
     * stalls more than {@link SpinTeam#REPEAT_JOBS} jobs apart; two within it are.
     */
    @Test
    void onlyARepeatedStallIsAStrike() {
        try (SpinTeam team = new SpinTeam(3, SpinTeam.DEFAULT_SPIN_NANOS)) {
            long job = 100;
            team.stalled(job, 5_000_000);
            assertEquals(0, team.backedOffJobsLeft(), "a single stall is no strike");
            job += SpinTeam.REPEAT_JOBS + 1;
            team.stalled(job, 5_000_000);
            assertEquals(0, team.backedOffJobsLeft(), "stalls " + (SpinTeam.REPEAT_JOBS + 1) + " jobs apart are one-offs");
            job += SpinTeam.REPEAT_JOBS;
            team.stalled(job, 5_000_000);
            assertEquals(4, team.backedOffJobsLeft(), "a stall " + SpinTeam.REPEAT_JOBS + " jobs after the last is a repeat");
        }
    }

    /** A job run on the caller alone that took longer than the stall the back-off avoids ends the back-off. */
    @Test
    void aBackOffEndsWhenACallerAloneJobCostsMoreThanTheStall() {
        try (SpinTeam team = new SpinTeam(3, SpinTeam.DEFAULT_SPIN_NANOS)) {
            team.stalled(10_000_000);
            team.stalled(10_000_000); // strike: 4 jobs on the caller, each worth it only while shorter than 10 ms
            assertEquals(4, team.backedOffJobsLeft());
            team.run(2, i -> { });
            assertEquals(3, team.backedOffJobsLeft(), "a job of nothing costs less than the 10 ms stall");
            team.run(2, i -> {
                for (long end = System.nanoTime() + 20_000_000; System.nanoTime() < end; ) {
                    Thread.onSpinWait();
                }
            });
            assertEquals(0, team.backedOffJobsLeft(), "a 20 ms job alone costs more than the 10 ms stall");
        }
    }

    @Test
    void aOneThreadTeamRunsOnTheCallerAndStartsNoThread() {
        try (SpinTeam team = new SpinTeam(1, SpinTeam.DEFAULT_SPIN_NANOS)) {
            Thread caller = Thread.currentThread();
            team.run(4, i -> assertSame(caller, Thread.currentThread()));
            assertTrue(team.workerThreads().isEmpty() || team.workerThreads().size() == 0);
        }
        assertThrows(IllegalArgumentException.class, () -> new SpinTeam(0, 0));
    }
}
