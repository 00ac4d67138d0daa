package io.flexq.cuda;

import io.flexq.runtime.spi.ActivationBatch;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The shared whole product behind row chunks, with a host-side stand-in for the GPU product (y[t][r] = sum_c x[t][c] *
 * (r + 1) * (c % 3 - 1), computed here once more as the reference): chunks of one input from many threads get their
 * rows of one product; new contents, or a new token count, mean a new product; the product is let go once every row
 * went out.
 */
class SharedProductTest {

    static final int ROWS = 301, COLS = 37;

    static float expected(float[] x, int t, int r) {
        float s = 0;
        for (int c = 0; c < COLS; c++) {
            s += x[t * COLS + c] * (r + 1) * (c % 3 - 1);
        }
        return s;
    }

    static SharedProduct.Whole standIn(AtomicInteger calls) {
        return (in, y) -> {
            calls.incrementAndGet();
            float[] x = in.data().asSlice(0, 4L * in.tokens() * COLS).toArray(ValueLayout.JAVA_FLOAT);
            for (int t = 0; t < in.tokens(); t++) {
                for (int r = 0; r < ROWS; r++) {
                    y.setAtIndex(ValueLayout.JAVA_FLOAT, (long) t * ROWS + r, expected(x, t, r));
                }
            }
        };
    }

    static float[] random(SplittableRandom rnd, int n) {
        float[] x = new float[n];
        for (int i = 0; i < n; i++) {
            x[i] = (float) rnd.nextDouble(-1, 1);
        }
        return x;
    }

    /** Ragged chunk bounds 0 = b0 < b1 < ... = ROWS. */
    static List<int[]> chunks(SplittableRandom rnd) {
        List<int[]> out = new ArrayList<>();
        for (int from = 0; from < ROWS; ) {
            int to = Math.min(ROWS, from + 1 + rnd.nextInt(60));
            out.add(new int[] {from, to});
            from = to;
        }
        return out;
    }

    @Test
    void chunksOfOneInputFromManyThreadsShareOneProduct() throws Exception {
        long seed = 77;
        SplittableRandom rnd = new SplittableRandom(seed);
        SharedProduct shared = new SharedProduct(ROWS, COLS);
        AtomicInteger calls = new AtomicInteger();
        ExecutorService pool = Executors.newFixedThreadPool(6);
        try (Arena arena = Arena.ofShared()) {
            for (int round = 0; round < 5; round++) {
                int m = 1 + rnd.nextInt(9);
                float[] x = random(rnd, m * COLS);
                MemorySegment xs = arena.allocate(4L * m * COLS);
                MemorySegment.copy(x, 0, xs, ValueLayout.JAVA_FLOAT, 0, x.length);
                MemorySegment ys = arena.allocate(4L * m * ROWS);
                ys.fill((byte) 0xFF);
                List<Future<?>> done = new ArrayList<>();
                for (int[] c : chunks(rnd)) {
                    // as the Jlama adapter does: a batch object per chunk over the same memory
                    done.add(pool.submit(() -> shared.serve(ActivationBatch.wrap(xs, m, COLS), ActivationBatch.wrap(ys, m, ROWS), c[0], c[1], standIn(calls))));
                }
                for (Future<?> f : done) {
                    f.get();
                }
                assertEquals(round + 1, calls.get(), "seed " + seed + " round " + round + ": one whole product per call");
                assertFalse(shared.holding(), "seed " + seed + " round " + round + ": product let go once every row went out");
                for (int t = 0; t < m; t++) {
                    for (int r = 0; r < ROWS; r++) {
                        assertEquals(Float.floatToRawIntBits(expected(x, t, r)), Float.floatToRawIntBits(ys.getAtIndex(ValueLayout.JAVA_FLOAT, (long) t * ROWS + r)),
                                "seed " + seed + " round " + round + ": y[" + t + "][" + r + "]");
                    }
                }
            }
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void newContentsOrTokenCountsMeanANewProductEqualContentsDoNot() {
        SplittableRandom rnd = new SplittableRandom(5);
        SharedProduct shared = new SharedProduct(ROWS, COLS);
        AtomicInteger calls = new AtomicInteger();
        try (Arena arena = Arena.ofConfined()) {
            float[] x = random(rnd, 3 * COLS);
            ActivationBatch in = ActivationBatch.allocate(arena, 3, COLS);
            ActivationBatch out = ActivationBatch.allocate(arena, 3, ROWS);
            for (int t = 0; t < 3; t++) {
                in.setRow(t, x, t * COLS);
            }
            shared.serve(in, out, 0, 10, standIn(calls));
            assertTrue(shared.holding());
            // another batch with the same bytes: the same product
            ActivationBatch copy = ActivationBatch.allocate(arena, 3, COLS);
            copy.data().copyFrom(in.data());
            shared.serve(copy, out, 10, 20, standIn(calls));
            assertEquals(1, calls.get());
            // the same batch, one element changed (in the last token): a new product, and its rows
            in.set(2, COLS - 1, x[3 * COLS - 1] + 0.5f);
            x[3 * COLS - 1] += 0.5f;
            shared.serve(in, out, 20, 30, standIn(calls));
            assertEquals(2, calls.get());
            assertEquals(expected(x, 2, 25), out.get(2, 25));
            // fewer live tokens: a new product
            in.setTokens(2);
            shared.serve(in, out, 30, 40, standIn(calls));
            assertEquals(3, calls.get());
            assertEquals(expected(x, 1, 35), out.get(1, 35));
        }
    }
}
