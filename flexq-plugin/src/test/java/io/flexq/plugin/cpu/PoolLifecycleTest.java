package io.flexq.plugin.cpu;

import io.flexq.runtime.spi.ActivationBatch;
import io.flexq.runtime.spi.Backends;
import io.flexq.runtime.spi.WeightMatrix;
import io.flexq.runtime.spi.WeightSource;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.ForkJoinWorkerThread;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Issue 11, finding 5: every model load discovered a new flexq-cpu backend whose thread pool was never shut down
 * (200 load/close cycles: 19 -> 421 threads). The pool must belong to the matrices loaded and end with the last.
 */
class PoolLifecycleTest {

    private static final ClassLoader LOADER = PoolLifecycleTest.class.getClassLoader();

    @Test
    void loadCloseCyclesLeaveNoPoolThreadsBehind() throws InterruptedException {
        Random rnd = new Random(5);
        int rows = 2048, cols = 1024; // large enough that the matmul forks onto the pool (native kernels too)
        MemorySegment bytes = MemorySegment.ofArray(TestData.weights(rnd, rows, cols).toFq6Bytes());
        float[] x = TestData.activations(rnd, 1, cols);
        int before = poolWorkers();
        int peak = 0;
        for (int cycle = 0; cycle < 12; cycle++) {
            // what a model load does: discover the backends (ServiceLoader makes a new flexq-cpu backend), load, use, close
            Backends backends = Backends.discover(LOADER, s -> { });
            List<WeightMatrix> loaded = new ArrayList<>();
            for (String name : new String[] {"blk.0.attn_q.weight", "blk.0.attn_k.weight"}) {
                loaded.add(backends.load(new WeightSource(name, new Fq6TensorType(), rows, cols, bytes, Map.of(
                        "flexq.act_bits." + name, 8L))));
            }
            try (Arena arena = Arena.ofShared()) {
                ActivationBatch in = FastPathTest.batch(arena, x, 1, cols);
                ActivationBatch out = ActivationBatch.allocate(arena, 1, rows);
                for (WeightMatrix m : loaded) {
                    m.matmul(in, out);
                }
            }
            peak = Math.max(peak, poolWorkers());
            loaded.forEach(WeightMatrix::close);
        }
        assertTrue(peak > before || Runtime.getRuntime().availableProcessors() == 1,
                "the matmuls should have run on pool threads (before " + before + ", peak " + peak + ")");
        int after = poolWorkers();
        for (long deadline = System.nanoTime() + 5_000_000_000L; after > before && System.nanoTime() < deadline; ) {
            Thread.sleep(20); // shutdown lets workers finish and exit: wait for them, not for the 60 s idle timeout
            after = poolWorkers();
        }
        assertTrue(after <= before, "pool worker threads: " + before + " before 12 load/close cycles, " + after + " after");
    }

    @Test
    void aPoolGivenByTheCallerIsTheCallersAndStaysOpen() {
        ForkJoinPool pool = new ForkJoinPool(2);
        try {
            FlexqCpuBackend backend = new FlexqCpuBackend(pool, s -> { });
            WeightMatrix m = backend.load(new WeightSource("w", new Fq6TensorType(), 4, 128,
                    MemorySegment.ofArray(TestData.weights(new Random(1), 4, 128).toFq6Bytes()), Map.of("flexq.act_bits.w", 8L)));
            m.close();
            m.close(); // closing twice is harmless
            assertTrue(!pool.isShutdown(), "the backend must not shut down a pool it was given");
        } finally {
            pool.shutdownNow();
        }
    }

    /** Live fork-join workers of any pool other than the common pool, and spinning-team workers (decode matmuls). */
    private static int poolWorkers() {
        int n = 0;
        for (Thread t : Thread.getAllStackTraces().keySet()) {
            if (t.isAlive() && (t instanceof ForkJoinWorkerThread w && w.getPool() != ForkJoinPool.commonPool()
                    || t.getName().startsWith(io.flexq.runtime.cpu.SpinTeam.THREAD_PREFIX))) {
                n++;
            }
        }
        return n;
    }
}
