package io.flexq.runtime.cli;

import io.flexq.runtime.cpu.CpuBackend;
import io.flexq.runtime.cpu.PoolLease;
import io.flexq.runtime.model.ModelFile;
import io.flexq.runtime.model.TensorEntry;
import io.flexq.runtime.spi.Backends;
import io.flexq.runtime.spi.WeightBackend;
import io.flexq.runtime.spi.WeightSource;

import java.util.ArrayList;
import java.util.List;
import java.util.ServiceLoader;
import java.util.function.Consumer;

/**
 * The weight backends for a run with a chosen number of matmul threads: every discovered backend on one shared
 * {@link PoolLease} of that many threads ({@link WeightBackend#withThreads}: the built-in CPU backend and plugins'
 * CPU backends alike, so {@code --threads 1} is one thread for FQ6 matrices too), the built-in CPU backend added if
 * it was not found. The lease's pool and spinning team end when the model's last matrix closes. Without a count,
 * the backends as discovered, each CPU backend on its own lease of every processor, ended with the model.
 */
record CpuThreads(Backends backends, PoolLease lease) implements AutoCloseable {

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
        PoolLease lease = PoolLease.owned(threads);
        List<WeightBackend> found = new ArrayList<>();
        for (WeightBackend b : ServiceLoader.load(WeightBackend.class, loader)) {
            found.add(b.withThreads(lease));
        }
        if (found.stream().noneMatch(b -> b instanceof CpuBackend)) {
            found.add(new CpuBackend(lease));
        }
        return new CpuThreads(new Backends(found, log), lease);
    }

    /**
     * Threads a CPU matmul uses: the lease's (with 1 the caller's thread does the work); without a count, that of
     * the pool the discovered CPU backends make, every processor ({@code -Dflexq.threads}).
     */
    int count() {
        return Math.max(1, lease != null ? lease.threads() : PoolLease.defaultThreads());
    }

    /** Name of the backend that runs the first block's query matrix (or the head when there are no blocks). */
    String backendOf(ModelFile file) {
        String name = file.tensors().containsKey("blk.0.attn_q.weight") ? "blk.0.attn_q.weight" : "token_embd.weight";
        TensorEntry t = file.tensor(name);
        return backends.choose(new WeightSource(name, t.type(), (int) t.rows(), (int) t.cols(), t.data(),
                file.metadata().asMap())).name();
    }

    /** Nothing to end here: the lease's threads end with the last matrix holding them (the model closes first). */
    @Override
    public void close() {
    }
}
