/**
 * FlexQ on CUDA GPUs through JavaCPP: the {@code flexq-cuda} weight backend and the small class family that
 * owns every CUDA call.
 *
 * <ul>
 *   <li>{@link io.flexq.cuda.CudaProbe} says whether a usable GPU is there, never throwing;</li>
 *   <li>{@link io.flexq.cuda.CudaDevice} (runtime calls, checked results, scratch buffers) and
 *       {@link io.flexq.cuda.DeviceBuffer} (device memory, closed deterministically);</li>
 *   <li>{@code KernelModule} compiles {@code io/flexq/kernels/flexq.cu} with NVRTC (sm_90a on Hopper) or takes
 *       a prebuilt or cached cubin; {@link io.flexq.cuda.FlexqKernels} launches its kernels with typed
 *       arguments; {@link io.flexq.cuda.KernelSpec} lists them with their launch geometry;</li>
 *   <li>{@link io.flexq.cuda.Dispatcher} picks the kernel per (M, N, K) from a table measured on the H200
 *       ({@code dispatch-sm90.tsv}, see bench/results/cuda-kernels-h200.md);</li>
 *   <li>{@link io.flexq.cuda.FlexqCudaBackend} / {@code CudaFq6Matrix}: FQ6 matrices repacked on the
 *       device at load, W6A6 / W6A8 on the INT8-MMA or bit-serial kernels, W6A16 on an fp32 kernel;</li>
 *   <li>{@link io.flexq.cuda.CublasGemm} and {@link io.flexq.cuda.CudaTimer} serve the benchmark.</li>
 * </ul>
 *
 * Every failed call throws {@link io.flexq.cuda.CudaException} naming the call, the kernel and shape, and
 * the device. Integer partials are bit-exact with flexq-cpu's {@code IntegerReference}; see the layout formulas at
 * the top of flexq.cu.
 */
package io.flexq.cuda;
