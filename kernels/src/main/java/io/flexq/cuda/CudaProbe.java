package io.flexq.cuda;

import io.flexq.runtime.spi.WeightBackend.Availability;
import org.bytedeco.cuda.cudart.cudaDeviceProp;
import org.bytedeco.cuda.global.cudart;
import org.bytedeco.cuda.global.nvrtc;
import org.bytedeco.javacpp.Loader;

/**
 * Whether this process can run the FlexQ kernels on device {@code ordinal}: the JavaCPP CUDA bindings
 * load (they need the host's libcudart.so.13 and libnvrtc.so.13), a driver answers, the device exists
 * and is sm_80 or newer. Never throws and prints nothing: every failure becomes a reason string, so a
 * CI machine without CUDA only sees "unavailable" in the backend log line.
 */
public final class CudaProbe {

    /** Oldest compute capability the kernels compile for (mma.sync b1 m16n8k256, cp.async). */
    public static final int MIN_CC = 80;

    private CudaProbe() {
    }

    public static Availability probe(int ordinal) {
        try {
            Loader.load(cudart.class);
        } catch (Throwable t) {  // UnsatisfiedLinkError, NoClassDefFoundError, ...: no CUDA runtime here
            return Availability.no("CUDA runtime not loadable (" + firstLine(t) + "); install the NVIDIA driver and CUDA 13 runtime to use flexq-cuda");
        }
        int[] count = new int[1];
        int rc = cudart.cudaGetDeviceCount(count);
        if (rc != cudart.cudaSuccess) {
            return Availability.no("no CUDA device: cudaGetDeviceCount -> " + rc + " (" + Native.string(cudart.cudaGetErrorString(rc)) + ")");
        }
        if (ordinal < 0 || ordinal >= count[0]) {
            return Availability.no("CUDA device " + ordinal + " not present (" + count[0] + " device(s)); set -Dflexq.cuda.device");
        }
        cudaDeviceProp prop = new cudaDeviceProp();
        rc = cudart.cudaGetDeviceProperties(prop, ordinal);
        if (rc != cudart.cudaSuccess) {
            return Availability.no("cudaGetDeviceProperties(" + ordinal + ") -> " + rc + " (" + Native.string(cudart.cudaGetErrorString(rc)) + ")");
        }
        int cc = prop.major() * 10 + prop.minor();
        String name = Native.string(prop.name());
        if (cc < MIN_CC) {
            return Availability.no("CUDA device " + ordinal + " (" + name + ") is sm_" + cc + "; the FlexQ kernels need sm_" + MIN_CC + " or newer");
        }
        try {
            Loader.load(nvrtc.class);
        } catch (Throwable t) {
            return Availability.no("NVRTC not loadable (" + firstLine(t) + "); the kernels are compiled at run time and need libnvrtc.so.13");
        }
        return Availability.yes("CUDA device " + ordinal + ": " + name + " (sm_" + cc + ", " + prop.multiProcessorCount() + " SMs)");
    }

    private static String firstLine(Throwable t) {
        String m = t.getMessage();
        String s = t.getClass().getSimpleName() + (m == null ? "" : ": " + m);
        int nl = s.indexOf('\n');
        return nl < 0 ? s : s.substring(0, nl);
    }
}
