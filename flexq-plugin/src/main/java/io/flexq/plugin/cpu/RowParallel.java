package io.flexq.plugin.cpu;

import java.util.concurrent.ForkJoinPool;
import java.util.stream.IntStream;

/**
 * Splits output rows {@code [0, rows)} into contiguous chunks run on a given pool. Chunks are disjoint,
 * so each output element is computed by exactly one thread, in the same order as single-threaded:
 * results do not depend on the number of threads.
 */
final class RowParallel {

    /** Below this many multiply-adds a matmul runs on the calling thread (fork-join overhead ~10 us). */
    private static final long INLINE_WORK = 1L << 18;
    /** Chunks per worker thread, for load balance on a shared machine. */
    private static final int CHUNKS_PER_THREAD = 4;
    /** Rows per chunk at least, so a chunk amortises its setup. */
    private static final int MIN_ROWS = 8;

    @FunctionalInterface
    interface RowRange {
        void run(int from, int to);
    }

    private RowParallel() {
    }

    static void forRows(ForkJoinPool pool, int rows, long workPerRow, RowRange body) {
        int threads = pool.getParallelism();
        if (threads <= 1 || workPerRow * rows <= INLINE_WORK || rows < 2 * MIN_ROWS) {
            body.run(0, rows);
            return;
        }
        int chunks = Math.max(1, Math.min(threads * CHUNKS_PER_THREAD, rows / MIN_ROWS));
        pool.submit(() -> IntStream.range(0, chunks).parallel().forEach(c ->
                body.run((int) ((long) rows * c / chunks), (int) ((long) rows * (c + 1) / chunks)))).join();
    }
}
