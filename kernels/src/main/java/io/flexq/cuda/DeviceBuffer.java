package io.flexq.cuda;

import org.bytedeco.cuda.global.cudart;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * A block of device memory, freed by {@link #close()} (use try-with-resources). Copies go through
 * {@link CudaDevice}'s checked calls; host sides are {@link MemorySegment}s (off-heap ones are copied
 * directly, heap ones through a temporary native copy).
 */
public final class DeviceBuffer implements AutoCloseable {

    private final CudaDevice device;
    private final String what;
    private final long bytes;
    private final boolean owner;
    private long address;

    DeviceBuffer(CudaDevice device, String what, long bytes, long address) {
        this(device, what, bytes, address, true);
    }

    private DeviceBuffer(CudaDevice device, String what, long bytes, long address, boolean owner) {
        this.device = device;
        this.what = what;
        this.bytes = bytes;
        this.address = address;
        this.owner = owner;
    }

    /** Device memory owned elsewhere (an address inside a larger buffer), as a buffer that frees nothing when closed. */
    static DeviceBuffer borrowed(CudaDevice device, String what, long address, long bytes) {
        return new DeviceBuffer(device, what, bytes, address, false);
    }

    /** Bytes [offset, offset + count) of this buffer as a buffer that frees nothing when closed. */
    public DeviceBuffer view(long offset, long count) {
        checkRange(offset, count, "view");
        return new DeviceBuffer(device, what + "[" + offset + ", +" + count + ")", count, address + offset, false);
    }

    /** The device address; 0 once closed. */
    public long address() {
        return address;
    }

    public long bytes() {
        return bytes;
    }

    public String what() {
        return what;
    }

    /** Copies all of {@code src} to device bytes {@code [offset, offset + src.byteSize())}. */
    public void upload(MemorySegment src, long offset) {
        checkRange(offset, src.byteSize(), "upload");
        if (src.byteSize() == 0) {
            return;
        }
        if (!src.isNative()) {
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment copy = arena.allocate(src.byteSize(), 16);
                copy.copyFrom(src);
                upload(copy, offset);
            }
            return;
        }
        device.check(cudart.cudaMemcpy(Native.at(address + offset), Native.at(src.address()), src.byteSize(), cudart.cudaMemcpyHostToDevice),
                "cudaMemcpy H2D", () -> what + " (" + src.byteSize() + " bytes at " + offset + ")");
    }

    /** Copies device bytes {@code [offset, offset + dst.byteSize())} into {@code dst}. */
    public void download(MemorySegment dst, long offset) {
        checkRange(offset, dst.byteSize(), "download");
        if (dst.byteSize() == 0) {
            return;
        }
        if (!dst.isNative()) {
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment copy = arena.allocate(dst.byteSize(), 16);
                download(copy, offset);
                dst.copyFrom(copy);
            }
            return;
        }
        device.check(cudart.cudaMemcpy(Native.at(dst.address()), Native.at(address + offset), dst.byteSize(), cudart.cudaMemcpyDeviceToHost),
                "cudaMemcpy D2H", () -> what + " (" + dst.byteSize() + " bytes at " + offset + ")");
    }

    /** Sets every byte to {@code value} (0xFF poisons floats with NaN and ints with -1). */
    public void fill(int value) {
        fill(value, 0, bytes);
    }

    public void fill(int value, long offset, long count) {
        checkRange(offset, count, "fill");
        device.check(cudart.cudaMemset(Native.at(address + offset), value, count), "cudaMemset", () -> what);
    }

    private void checkRange(long offset, long count, String op) {
        if (address == 0) {
            throw new IllegalStateException(what + ": " + op + " on a closed device buffer");
        }
        if (offset < 0 || count < 0 || offset + count > bytes) {
            throw new IndexOutOfBoundsException(what + ": " + op + " of " + count + " bytes at " + offset + " outside " + bytes + " bytes");
        }
    }

    @Override
    public void close() {
        if (address != 0) {
            long a = address;
            address = 0;
            if (owner) {
                device.free(a, what);
            }
        }
    }

    @Override
    public String toString() {
        return what + " (" + bytes + " bytes on " + device.describe() + ")";
    }
}
