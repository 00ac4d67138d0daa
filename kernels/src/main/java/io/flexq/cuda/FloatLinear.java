package io.flexq.cuda;

/**
 * A float weight matrix on the device, row-major, fp16 ({@code f16}) or fp32. fp16 weights go through cuBLAS with the
 * activations rounded to fp16 (fp32 accumulation and output); fp32 weights through the decoder's GEMV (fp32
 * activations and accumulation), tiled over the rows.
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
     * fp16 matrices take cuBLAS for decode steps too (activations rounded to fp16, as in prompts): on the 8B shape an
     * F16 model decoded at 150.0 tok/s that way against 109.9 through the decoder's GEMV (H100, same session, e2e-h100.md
     * round 5). {@code -Dflexq.cuda.f16Decode=gemv} keeps the GEMV (fp32 activations) for steps of up to 8 rows.
     */
    private static final boolean CUBLAS_DECODE = !"gemv".equals(System.getProperty("flexq.cuda.f16Decode"));

    @Override
    public void run(FlexqKernels k, DecoderKernels d, LayerInput in, long y) {
        int m = in.rows;
        if (!f16 || blas == null || m <= 8 && !CUBLAS_DECODE) {
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
