package io.flexq.plugin.cpu;

import io.flexq.runtime.cpu.SpinTeam;

import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.RecursiveAction;

/**
 * Splits a kernel's tasks {@code [0, tasks)} (blocks of output rows) into contiguous chunks run on a given
 * fork-join pool or spinning team (the same chunks on either). Chunks are disjoint, so each output element is computed by exactly one thread, in the same order
 * as single-threaded: results do not depend on the number of threads.
 */
final class RowParallel {

    /** Below this many multiply-adds a matmul runs on the calling thread (fork-join overhead ~10 us). */
    private static final long INLINE_WORK = 1L << 18;
    /**
     * Below this many multiply-adds a matmul on a spinning team runs on the calling thread: handing a job to a
     * spinning worker costs about a microsecond (a cache line written and read), not a wake-up, so far smaller
     * matmuls than on the fork-join pool are worth splitting (a 27M model's 512 x 512 decode matmul: 65,536 after
     * the native speed-up, which {@link #INLINE_WORK} kept on one thread).
     */
    private static final long TEAM_INLINE_WORK = 1L << 14;
    /** Chunks per worker thread, for load balance on a shared machine. */
    private static final int CHUNKS_PER_THREAD = 4;


    /** Below this many tokens per range a prompt's matmul is not split by tokens as well (a range is its tile rows' reuse). */
    static final int TOKEN_GRAIN = 64;

    @FunctionalInterface
    interface RowRange {
        void run(int from, int to);
    }

    /** Tasks [from, to) for tokens [t0, t1). */
    @FunctionalInterface
    interface BlockRange {
        void run(int from, int to, int t0, int t1);
    }

    private RowParallel() {
    }

    static void forTasks(ForkJoinPool pool, int tasks, long workPerTask, RowRange body) {
        int threads = pool.getParallelism();
        if (threads <= 1 || workPerTask * tasks <= INLINE_WORK || tasks < 2) {
            body.run(0, tasks);
            return;
        }
        int chunks = Math.min(threads * CHUNKS_PER_THREAD, tasks);
        pool.invoke(new Split(body, tasks, chunks, 0, chunks));
    }

    /**
     * As {@link #forTasks(ForkJoinPool, int, long, RowRange)}, run by a spinning team, in chunks of at least
     * {@code minTasks} tasks where there are enough: the native decode tile covers 4 row blocks, and a chunk of 2 or 3
     * runs the narrower tiles (half the independent accumulator chains). Chunks only partition the rows, so any
     * chunking gives the same bits.
     */
    static void forTasks(SpinTeam team, int tasks, long workPerTask, int minTasks, RowRange body) {
        int threads = team.threads();
        if (threads <= 1 || workPerTask * tasks <= TEAM_INLINE_WORK || tasks < 2) {
            body.run(0, tasks);
            return;
        }
        int chunks = rowChunks(threads, tasks, minTasks);
        team.run(chunks, c -> body.run((int) ((long) tasks * c / chunks), (int) ((long) tasks * (c + 1) / chunks)));
    }

    /**
     * A prompt's matmul on a spinning team: as {@link #forTasks(SpinTeam, int, long, int, RowRange)}, and where that
     * leaves fewer than {@value #CHUNKS_PER_THREAD} chunks a thread (a 512-row matrix on 16 threads: one each, so any
     * thread the machine delays holds up the whole matmul) each row chunk is also split into token ranges of at least
     * {@value #TOKEN_GRAIN} tokens, starting at multiples of 4 (the kernel's token tile). Chunks partition rows x tokens
     * and every output is computed as in one call, so the split changes no bit.
     */
    static void forTasksAndTokens(SpinTeam team, int tasks, int tokens, long workPerTask, int minTasks, BlockRange body) {
        int threads = team.threads();
        if (threads <= 1 || workPerTask * tasks <= TEAM_INLINE_WORK || (tasks < 2 && tokens < 2 * TOKEN_GRAIN)) {
            body.run(0, tasks, 0, tokens);
            return;
        }
        int rowChunks = rowChunks(threads, tasks, minTasks);
        int want = threads * CHUNKS_PER_THREAD;
        int tokenChunks = rowChunks >= want ? 1 : Math.max(1, Math.min(Math.ceilDiv(want, rowChunks), tokens / TOKEN_GRAIN));
        team.run(rowChunks * tokenChunks, c -> {
            int rc = c / tokenChunks, tc = c % tokenChunks;
            body.run((int) ((long) tasks * rc / rowChunks), (int) ((long) tasks * (rc + 1) / rowChunks),
                    tokenBound(tokens, tc, tokenChunks), tokenBound(tokens, tc + 1, tokenChunks));
        });
    }

    /**
     * Row chunks of a team job: {@value #CHUNKS_PER_THREAD} a thread where there are enough tasks, at least
     * {@code minTasks} tasks each where that still gives every thread one, and never more chunks than tasks.
     */
    private static int rowChunks(int threads, int tasks, int minTasks) {
        return Math.min(tasks, Math.min(threads * CHUNKS_PER_THREAD, Math.max(threads, tasks / Math.max(1, minTasks))));
    }

    /** Start of token range i of n over [0, tokens): a multiple of 4, except the end of the last. */
    static int tokenBound(int tokens, int i, int n) {
        return i == n ? tokens : (int) ((long) tokens * i / n) & ~3;
    }

    /** As above with chunks of any size. */
    static void forTasks(SpinTeam team, int tasks, long workPerTask, RowRange body) {
        forTasks(team, tasks, workPerTask, 1, body);
    }

    /**
     * Chunks [lo, hi) of {@code chunks} equal shares of the tasks, halved recursively: a plain fork-join split
     * (a parallel stream here cost more than a small decode matmul: spliterators, a pipeline, a terminal task).
     */
    private static final class Split extends RecursiveAction {
        private final RowRange body;
        private final int tasks;
        private final int chunks;
        private final int lo;
        private final int hi;

        Split(RowRange body, int tasks, int chunks, int lo, int hi) {
            this.body = body;
            this.tasks = tasks;
            this.chunks = chunks;
            this.lo = lo;
            this.hi = hi;
        }

        @Override
        protected void compute() {
            if (hi - lo == 1) {
                body.run((int) ((long) tasks * lo / chunks), (int) ((long) tasks * hi / chunks));
                return;
            }
            int mid = (lo + hi) >>> 1;
            invokeAll(new Split(body, tasks, chunks, lo, mid), new Split(body, tasks, chunks, mid, hi));
        }
    }
}
