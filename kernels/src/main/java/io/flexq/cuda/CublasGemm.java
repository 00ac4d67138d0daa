package io.flexq.cuda;

import org.bytedeco.cuda.cublas.cublasContext;
import org.bytedeco.cuda.global.cublas;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.IntPointer;
import org.bytedeco.javacpp.Loader;

/**
 * cuBLAS baselines for the benchmark: {@code Y[M x N] = X[M x K] * W[N x K]^T} in FP16 (fp32 accumulate,
 * fp16 out) and INT8 (int32 accumulate and out) through {@code cublasGemmEx}. Row-major Y is column-major
 * Y^T = W * X^T, so the call is op(A) = T on W (ld K), op(B) = N on X (ld K), C = Y^T (ld N).
 */
public final class CublasGemm implements AutoCloseable {

    // cudaDataType and cublasComputeType_t values (library_types.h, cublas_api.h)
    private static final int CUDA_R_32F = 0, CUDA_R_16F = 2, CUDA_R_8I = 3, CUDA_R_32I = 10;
    private static final int COMPUTE_32F = 68, COMPUTE_32I = 72;

    private final CudaDevice device;
    private final cublasContext handle = new cublasContext();
    private final FloatPointer oneF = new FloatPointer(1f), zeroF = new FloatPointer(0f);
    private final IntPointer oneI = new IntPointer(new int[] {1}), zeroI = new IntPointer(new int[] {0});

    public CublasGemm(CudaDevice device) {
        this.device = device;
        Loader.load(cublas.class);
        check(cublas.cublasCreate_v2(handle), "cublasCreate", "");
    }

    /** FP16: w N x K halves, x M x K halves, y M x N halves. Returns the cuBLAS status (0 = success). */
    public int fp16(DeviceBuffer w, DeviceBuffer x, DeviceBuffer y, int m, int n, int k) {
        return cublas.cublasGemmEx(handle, cublas.CUBLAS_OP_T, cublas.CUBLAS_OP_N, n, m, k, oneF, Native.at(w.address()), CUDA_R_16F, k,
                Native.at(x.address()), CUDA_R_16F, k, zeroF, Native.at(y.address()), CUDA_R_16F, n, COMPUTE_32F, cublas.CUBLAS_GEMM_DEFAULT);
    }

    /** Runs this handle's calls on {@code stream} with {@code workspace} (so they can be captured into a CUDA graph). */
    public void useStream(org.bytedeco.cuda.cudart.CUstream_st stream, DeviceBuffer workspace) {
        check(cublas.cublasSetStream_v2(handle, stream), "cublasSetStream", "");
        check(cublas.cublasSetWorkspace_v2(handle, Native.at(workspace.address()), workspace.bytes()), "cublasSetWorkspace", "");
    }

    /** FP16 weights and activations, fp32 output: w N x K halves, x M x K halves (addresses), y M x N floats; checked. */
    public void fp16to32(long w, long x, long y, int m, int n, int k) {
        int status = cublas.cublasGemmEx(handle, cublas.CUBLAS_OP_T, cublas.CUBLAS_OP_N, n, m, k, oneF, Native.at(w), CUDA_R_16F, k,
                Native.at(x), CUDA_R_16F, k, zeroF, Native.at(y), CUDA_R_32F, n, COMPUTE_32F, cublas.CUBLAS_GEMM_DEFAULT);
        check(status, "cublasGemmEx", " (fp16 x fp16 -> fp32, M=" + m + " N=" + n + " K=" + k + ")");
    }

    /** INT8: w N x K int8, x M x K int8, y M x N int32. Returns the cuBLAS status. */
    public int int8(DeviceBuffer w, DeviceBuffer x, DeviceBuffer y, int m, int n, int k) {
        return cublas.cublasGemmEx(handle, cublas.CUBLAS_OP_T, cublas.CUBLAS_OP_N, n, m, k, oneI, Native.at(w.address()), CUDA_R_8I, k,
                Native.at(x.address()), CUDA_R_8I, k, zeroI, Native.at(y.address()), CUDA_R_32I, n, COMPUTE_32I, cublas.CUBLAS_GEMM_DEFAULT);
    }

    private void check(int status, String call, String what) {
        if (status != cublas.CUBLAS_STATUS_SUCCESS) {
            throw new CudaException(call + " -> cuBLAS status " + status + what + " on " + device.describe(), status);
        }
    }

    @Override
    public void close() {
        cublas.cublasDestroy_v2(handle);
        oneF.close();
        zeroF.close();
        oneI.close();
        zeroI.close();
    }
}
