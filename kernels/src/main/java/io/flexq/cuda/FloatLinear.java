package io.flexq.cuda;

/**
 * A float weight matrix on the device, row-major, fp16 ({@code f16}) or fp32. Up to 8 rows (decode) it runs the
 * decoder's GEMV (fp32 activations, fp32 accumulation); beyond, fp16 weights go through cuBLAS with the activations
 * rounded to fp16 (fp32 accumulation and output), fp32 weights through the GEMV tiled over the rows.
 */
record FloatLinear(String name, int rows, int cols, boolean f16, DeviceBuffer weights, CublasGemm blas)
        implements DeviceLinear {

    @Override
    public int bits() {
        return 0;
    }

    @Override
    public long bytes() {
        return weights.bytes();
    }

    @Override
    public String describe() {
        return name + ": " + (f16 ? "F16" : "F32") + " " + rows + " x " + cols;
    }

    /**
     * {@code -Dflexq.cuda.f16Decode=cublas}: fp16 matrices take cuBLAS (activations rounded to fp16) for decode steps too,
     * not the decoder's GEMV. Off by default until measured (cuBLAS FP16 streamed 2.8 TB/s at M = 1 on the 8B shapes
     * where the decoder's fp16 GEMV reached about 1.75, bench/results/e2e-h100.md round 4).
     */
    private static final boolean CUBLAS_DECODE = "cublas".equals(System.getProperty("flexq.cuda.f16Decode"));

    @Override
    public void run(FlexqKernels k, DecoderKernels d, LayerInput in, long y) {
        int m = in.rows;
        if ((m <= 8 && !(CUBLAS_DECODE && f16)) || !f16 || blas == null) {
            d.floatGemv(weights.address(), f16, rows, cols, in.x, cols, m, y);
            return;
        }
        long n = (long) m * cols;
        DeviceBuffer staging = in.work().f16Staging();
        if (staging.bytes() < n * 2) {
            throw new IllegalStateException(name + ": fp16 staging of " + staging.bytes() + " bytes < " + n * 2);
        }
        d.toF16(in.x, n, staging.address());
        blas.fp16to32(weights.address(), staging.address(), y, m, rows, cols);
    }

    @Override
    public void close() {
        weights.close();
    }
}
