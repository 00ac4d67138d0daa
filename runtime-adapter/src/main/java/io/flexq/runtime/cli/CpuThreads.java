package io.flexq.runtime.cli;

import io.flexq.runtime.cpu.CpuBackend;
import io.flexq.runtime.model.ModelFile;
import io.flexq.runtime.model.TensorEntry;
import io.flexq.runtime.spi.Backends;
import io.flexq.runtime.spi.WeightBackend;
import io.flexq.runtime.spi.WeightSource;

import java.util.ArrayList;
import java.util.List;
import java.util.ServiceLoader;
import java.util.concurrent.ForkJoinPool;
import java.util.function.Consumer;

/**
 * The weight backends for a run with a chosen number of matmul threads: every discovered backend, the built-in CPU
 * backend replaced by one on its own pool of that many threads (closed with this). Without a count, the backends as
 * discovered, each CPU backend on its own pool of every processor, ended with the model.
 */
record CpuThreads(Backends backends, ForkJoinPool pool) implements AutoCloseable {

    /**
     * The most matmul threads a run may ask for. ForkJoinPool refuses more than 32767 with a bare
     * IllegalArgumentException; far fewer already only oversubscribe the cores (issue 11: --threads 100000).
     */
    static final int MAX_THREADS = 1024;

    /** @param threads matmul threads, or null for the backends' own pools (every processor) */
    static CpuThreads of(Integer threads, ClassLoader loader, Consumer<String> log) {
        if (threads == null) {
            return new CpuThreads(Backends.discover(loader, log), null);
        }
        if (threads < 1 || threads > MAX_THREADS) {
            throw new UsageException("--threads " + threads + " is outside 1.." + MAX_THREADS + " (this machine has "
                    + Runtime.getRuntime().availableProcessors() + " processors)");
        }
        ForkJoinPool pool = new ForkJoinPool(threads);
        List<WeightBackend> found = new ArrayList<>();
        for (WeightBackend b : ServiceLoader.load(WeightBackend.class, loader)) {
            found.add(b instanceof CpuBackend ? new CpuBackend(pool) : b);
        }
        if (found.stream().noneMatch(b -> b instanceof CpuBackend)) {
            found.add(new CpuBackend(pool));
        }
        return new CpuThreads(new Backends(found, log), pool);
    }

    /**
     * Threads a CPU matmul uses: the pool's parallelism (with 1 the caller's thread does the work); without a
     * count, that of the pool the discovered CPU backends make, every processor ({@code -Dflexq.threads}).
     */
    int count() {
        return Math.max(1, pool != null ? pool.getParallelism() : io.flexq.runtime.cpu.PoolLease.defaultThreads());
    }

    /** Name of the backend that runs the first block's query matrix (or the head when there are no blocks). */
    String backendOf(ModelFile file) {
        String name = file.tensors().containsKey("blk.0.attn_q.weight") ? "blk.0.attn_q.weight" : "token_embd.weight";
        TensorEntry t = file.tensor(name);
        return backends.choose(new WeightSource(name, t.type(), (int) t.rows(), (int) t.cols(), t.data(),
                file.metadata().asMap())).name();
    }

    @Override
    public void close() {
        if (pool != null) {
            pool.shutdownNow();
        }
    }
}
