package io.flexq.cuda;

/**
 * A CUDA runtime, driver, NVRTC or cuBLAS call that failed. The message names the call, its result code
 * and text, what was being done (kernel and shape) and the device, e.g.
 * {@code cuLaunchKernel -> 700 (an illegal memory access was encountered): flexq_gemm_i8_128x128 M=4096
 * N=8192 K=8192 on device 0 (NVIDIA H200, sm_90)}.
 */
public final class CudaException extends RuntimeException {

    private final int code;

    public CudaException(String message, int code) {
        super(message);
        this.code = code;
    }

    /** The CUDA (or NVRTC / cuBLAS) result code. */
    public int code() {
        return code;
    }
}
