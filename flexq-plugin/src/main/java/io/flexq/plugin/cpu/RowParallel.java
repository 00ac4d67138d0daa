package io.flexq.plugin.cpu;

import java.util.concurrent.ForkJoinPool;
import java.util.stream.IntStream;

/**
 * Splits a kernel's tasks {@code [0, tasks)} (blocks of output rows) into contiguous chunks run on a given
 * pool. Chunks are disjoint, so each output element is computed by exactly one thread, in the same order
 * as single-threaded: results do not depend on the number of threads.
 */
final class RowParallel {

    /** Below this many multiply-adds a matmul runs on the calling thread (fork-join overhead ~10 us). */
    private static final long INLINE_WORK = 1L << 18;
    /** Chunks per worker thread, for load balance on a shared machine. */
    private static final int CHUNKS_PER_THREAD = 4;


    @FunctionalInterface
    interface RowRange {
        void run(int from, int to);
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
        pool.submit(() -> IntStream.range(0, chunks).parallel().forEach(c ->
                body.run((int) ((long) tasks * c / chunks), (int) ((long) tasks * (c + 1) / chunks)))).join();
    }
}
