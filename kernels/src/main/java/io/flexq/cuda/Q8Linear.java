package io.flexq.cuda;

/**
 * A GGUF Q8_0 matrix on the device, split at upload into its int8 codes (rows x cols bytes, row-major) and its fp16
 * block scales (rows x cols/32): the output head of a file written by {@code flexq quantize} with its default
 * {@code --head q8_0}, which the device would otherwise widen to fp16 (twice the bytes read per token). Runs the
 * decoder's Q8_0 GEMV (fp32 activations and accumulation) for every row count: a head sees at most 8 rows per step,
 * and whole-prompt logits tile the rows by 8.
 */
record Q8Linear(String name, int rows, int cols, DeviceBuffer codes, DeviceBuffer scales) implements DeviceLinear {

    @Override
    public int bits() {
        return 0;
    }

    @Override
    public long bytes() {
        return codes.bytes() + scales.bytes();
    }

    @Override
    public String describe() {
        return name + ": Q8_0 " + rows + " x " + cols;
    }

    @Override
    public void run(FlexqKernels k, DecoderKernels d, LayerInput in, long y) {
        d.q8Gemv(codes.address(), scales.address(), rows, cols, in.x, cols, in.rows, y);
    }

    @Override
    public void close() {
        codes.close();
        scales.close();
    }
}
