package io.flexq.runtime.cpu;

import io.flexq.runtime.spi.TensorType;
import io.flexq.runtime.spi.WeightBackend;
import io.flexq.runtime.spi.WeightMatrix;
import io.flexq.runtime.spi.WeightSource;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Map;
import java.util.concurrent.ForkJoinPool;

/**
 * The built-in CPU backend, priority 0, the fallback for every matrix: Vector API kernels for the built-in
 * types (F32, F16, BF16, Q8_0, Q4_0, Q6_K), and for any other registered type (a plugin's) whole rows through
 * {@link TensorType#dequantizeRow} followed by vector dot products. Matmuls run on the given pool, or by
 * default on a pool of every processor ({@code -Dflexq.threads}) that the matrices loaded share and that
 * shuts down when the last of them closes ({@link PoolLease}); several backends may coexist.
 */
public final class CpuBackend implements WeightBackend {

    private final PoolLease pool;

    /**
     * For {@link java.util.ServiceLoader}: matmuls run on a pool of {@link PoolLease#defaultThreads()} threads,
     * started by the first matrix and ended with the last (the common pool would leave one core idle).
     */
    public CpuBackend() {
        this.pool = PoolLease.owned(PoolLease.defaultThreads());
    }

    /** Matmuls run on {@code pool} (parallelism 1 = single-threaded); the caller shuts it down. */
    public CpuBackend(ForkJoinPool pool) {
        this.pool = PoolLease.borrowed(pool);
    }

    /** Matmuls run on the threads of {@code lease} (which other backends may share). */
    public CpuBackend(PoolLease lease) {
        this.pool = lease;
    }

    @Override
    public CpuBackend withThreads(PoolLease threads) {
        return new CpuBackend(threads);
    }

    @Override
    public String name() {
        return "cpu";
    }

    @Override
    public int priority() {
        return 0;
    }

    @Override
    public Availability availability() {
        return Availability.yes("pure Java, " + Simd.describe() + ", " + pool.threads() + " threads");
    }

    /** Any type whose row length is valid (whole blocks) for a non-empty matrix. */
    @Override
    public boolean supports(TensorType type, int rows, int cols) {
        if (rows <= 0 || cols <= 0) {
            return false;
        }
        try {
            type.byteSize(cols, rows);
            return true;
        } catch (IllegalArgumentException | ArithmeticException e) {
            return false;
        }
    }

    @Override
    public CpuMatrix load(WeightSource s) {
        if (s.rows() <= 0 || s.cols() <= 0) {
            throw new IllegalArgumentException("tensor " + s.name() + ": empty shape " + s.rows() + " x " + s.cols());
        }
        long needed;
        try {
            needed = s.type().byteSize(s.cols(), s.rows());
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("tensor " + s.name() + ": " + e.getMessage(), e);
        }
        if (s.data().byteSize() < needed) {
            throw new IllegalArgumentException("tensor " + s.name() + ": " + s.type().name() + " " + s.rows() + " x "
                    + s.cols() + " needs " + needed + " bytes, the data holds " + s.data().byteSize());
        }
        MemorySegment data = vectorReadable(s.data().asSlice(0, needed));
        PoolLease.Hold hold = pool.acquire();
        try {
            return new CpuMatrix(s.name(), s.type(), s.rows(), s.cols(), data, hold);
        } catch (RuntimeException | Error e) {
            hold.close();
            throw e;
        }
    }

    /** Convenience for tests and benchmarks: a matrix from raw GGUF bytes, no model metadata. */
    public CpuMatrix load(String name, TensorType type, int rows, int cols, MemorySegment data) {
        return load(new WeightSource(name, type, rows, cols, data, Map.of()));
    }

    /**
     * The Vector API reads off-heap segments and byte[]-backed heap segments; other heap segments (a wrapped
     * float[], say) are copied once into an automatically freed native segment.
     */
    private static MemorySegment vectorReadable(MemorySegment data) {
        if (data.isNative() || data.heapBase().orElse(null) instanceof byte[]) {
            return data;
        }
        MemorySegment copy = Arena.ofAuto().allocate(data.byteSize(), 64);
        copy.copyFrom(data);
        return copy;
    }

    @Override
    public String toString() {
        return "CpuBackend[" + Simd.describe() + ", pool " + pool.threads() + "]";
    }
}
