package io.flexq.cuda;

import org.bytedeco.cuda.cudart.cudaDeviceProp;
import org.bytedeco.cuda.global.cudart;
import org.bytedeco.javacpp.Pointer;

import java.util.HashMap;
import java.util.Map;
import java.util.function.Supplier;

/**
 * One CUDA device as this process uses it, and the owner of every CUDA runtime call FlexQ makes:
 * allocation, copies, synchronization, and the checked-result helper {@link #check} that turns a failed
 * call into a {@link CudaException} naming the call, the work (kernel and shape) and this device.
 *
 * <p>Uses the device's primary context on the default stream. Not a singleton: open one per device you
 * want; {@link #close()} frees its scratch buffers and kernel module (buffers handed out by
 * {@link #alloc} are the caller's to close). Calls are not thread-safe; {@link CudaFq6Matrix}
 * serializes on the device.
 */
public final class CudaDevice implements AutoCloseable {

    private final int ordinal;
    private final String name;
    private final int cc;
    private final int smCount;
    private final long totalMemory;
    private final int driverVersion;
    private final int runtimeVersion;
    private final long maxSharedPerBlock;
    private final Map<String, DeviceBuffer> scratch = new HashMap<>();
    private FlexqKernels kernels;
    private boolean closed;

    private CudaDevice(int ordinal, cudaDeviceProp prop, int driverVersion, int runtimeVersion) {
        this.ordinal = ordinal;
        this.name = Native.string(prop.name());
        this.cc = prop.major() * 10 + prop.minor();
        this.smCount = prop.multiProcessorCount();
        this.totalMemory = prop.totalGlobalMem();
        this.maxSharedPerBlock = prop.sharedMemPerBlockOptin();
        this.driverVersion = driverVersion;
        this.runtimeVersion = runtimeVersion;
    }

    /**
     * Opens device {@code ordinal} (check {@link CudaProbe#probe} first for a friendly reason when there
     * is none) and makes its primary context current on this thread.
     */
    public static CudaDevice open(int ordinal) {
        Supplier<String> ctx = () -> "opening CUDA device " + ordinal;
        int[] v = new int[1];
        checkStatic(cudart.cudaSetDevice(ordinal), "cudaSetDevice", ctx);
        checkStatic(cudart.cudaFree(null), "cudaFree(0) (context creation)", ctx);
        cudaDeviceProp prop = new cudaDeviceProp();
        checkStatic(cudart.cudaGetDeviceProperties(prop, ordinal), "cudaGetDeviceProperties", ctx);
        checkStatic(cudart.cudaDriverGetVersion(v), "cudaDriverGetVersion", ctx);
        int driver = v[0];
        checkStatic(cudart.cudaRuntimeGetVersion(v), "cudaRuntimeGetVersion", ctx);
        return new CudaDevice(ordinal, prop, driver, v[0]);
    }

    public int ordinal() {
        return ordinal;
    }

    public String name() {
        return name;
    }

    /** Compute capability as major * 10 + minor (90 for the H100/H200). */
    public int computeCapability() {
        return cc;
    }

    public int smCount() {
        return smCount;
    }

    public long totalMemory() {
        return totalMemory;
    }

    public long maxSharedMemoryPerBlock() {
        return maxSharedPerBlock;
    }

    /** CUDA versions as 1000 * major + 10 * minor, e.g. 13000. */
    public int driverVersion() {
        return driverVersion;
    }

    public int runtimeVersion() {
        return runtimeVersion;
    }

    /** "device 0 (NVIDIA H200, sm_90, 132 SMs, driver 13.0, runtime 13.0)". */
    public String describe() {
        return "device " + ordinal + " (" + name + ", sm_" + cc + ", " + smCount + " SMs, driver " + version(driverVersion)
                + ", runtime " + version(runtimeVersion) + ")";
    }

    private static String version(int v) {
        return (v / 1000) + "." + (v % 1000) / 10;
    }

    /** Makes this device's primary context current on the calling thread (cheap; call before driver-API work). */
    public void makeCurrent() {
        ensureOpen();
        check(cudart.cudaSetDevice(ordinal), "cudaSetDevice", () -> "making the context current");
    }

    /** The kernels, compiled (or read from the cubin cache) on first use. */
    public synchronized FlexqKernels kernels() {
        ensureOpen();
        if (kernels == null) {
            makeCurrent();
            kernels = new FlexqKernels(this, KernelModule.load(this));
        }
        return kernels;
    }

    /**
     * A new device allocation of {@code bytes} (at least 1), named {@code what} in errors. Out of memory is a
     * {@link CudaException} that names {@code what}, the size asked, and the device's free and total memory.
     */
    public DeviceBuffer alloc(long bytes, String what) {
        ensureOpen();
        Pointer p = new Pointer();
        long n = Math.max(1, bytes);
        int rc = cudart.cudaMalloc(p, n);
        if (rc == cudart.cudaErrorMemoryAllocation) {
            cudart.cudaGetLastError();  // clear the sticky-free error so later calls work
            long[] info = memoryInfo();
            throw new CudaException(String.format(java.util.Locale.ROOT,
                    "out of device memory: %s needs %,d bytes; %,d of %,d bytes are free on %s", what, n, info[0], info[1], describe()), rc);
        }
        check(rc, "cudaMalloc", () -> what + " (" + n + " bytes)");
        return new DeviceBuffer(this, what, bytes, p.address());
    }

    /** {free, total} bytes of device memory now. */
    public long[] memoryInfo() {
        try (org.bytedeco.javacpp.SizeTPointer free = new org.bytedeco.javacpp.SizeTPointer(1);
             org.bytedeco.javacpp.SizeTPointer total = new org.bytedeco.javacpp.SizeTPointer(1)) {
            check(cudart.cudaMemGetInfo(free, total), "cudaMemGetInfo", () -> "reading free memory");
            return new long[] {free.get(), total.get()};
        }
    }

    /**
     * A scratch buffer of at least {@code bytes} under {@code key}, reused across calls and grown as
     * needed; owned by this device (do not close it). Callers hold the device's monitor.
     */
    synchronized DeviceBuffer scratch(String key, long bytes) {
        DeviceBuffer b = scratch.get(key);
        if (b == null || b.bytes() < bytes) {
            if (b != null) {
                b.close();
            }
            b = alloc(Math.max(bytes, b == null ? 0 : b.bytes() * 3 / 2), "scratch " + key);
            scratch.put(key, b);
        }
        return b;
    }

    void free(long address, String what) {
        if (!closed) {
            check(cudart.cudaFree(Native.at(address)), "cudaFree", () -> what);
        }
    }

    /** Waits for all work on the device; a kernel's asynchronous fault surfaces here, named by {@code context}. */
    public void synchronize(Supplier<String> context) {
        check(cudart.cudaDeviceSynchronize(), "cudaDeviceSynchronize", context);
    }

    /** Throws a {@link CudaException} naming the call, {@code context} and this device unless {@code rc} is success. */
    public void check(int rc, String call, Supplier<String> context) {
        if (rc != cudart.cudaSuccess) {
            throw new CudaException(call + " -> " + rc + " (" + Native.string(cudart.cudaGetErrorString(rc)) + "): "
                    + context.get() + " on " + describe(), rc);
        }
    }

    private static void checkStatic(int rc, String call, Supplier<String> context) {
        if (rc != cudart.cudaSuccess) {
            throw new CudaException(call + " -> " + rc + " (" + Native.string(cudart.cudaGetErrorString(rc)) + "): " + context.get(), rc);
        }
    }

    private void ensureOpen() {
        if (closed) {
            throw new IllegalStateException("CUDA " + describe() + " is closed");
        }
    }

    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        scratch.values().forEach(DeviceBuffer::close);
        scratch.clear();
        if (kernels != null) {
            kernels.module().close();
            kernels = null;
        }
        closed = true;
    }
}
