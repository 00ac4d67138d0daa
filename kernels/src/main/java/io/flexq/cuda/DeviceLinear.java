package io.flexq.cuda;

/**
 * One weight matrix (rows outputs x cols inputs) resident on the device for the decoder: FQ6 on the INT8-MMA
 * kernels, a float matrix, or a Q8_0 matrix (the output head of a default `flexq quantize` file). {@code run} writes y[t * rows + r] for the M rows of its input, launching on the
 * stream of the kernels it is given.
 */
sealed interface DeviceLinear extends AutoCloseable permits Fq6Linear, FloatLinear, Q8Linear {

    int rows();

    int cols();

    /** The activation bits it reads (6 or 8), or 0 when it takes the fp32 rows (float weights, W6A16). */
    int bits();

    /** Device bytes held. */
    long bytes();

    String describe();

    void run(FlexqKernels k, DecoderKernels d, LayerInput in, long y);

    /** Whether a forward of {@code m} rows reads natural-order int8 records (a wgmma kernel; see {@link LayerInput}). */
    default boolean natural(int m) {
        return false;
    }

    /** Makes what a forward of {@code m} rows needs beyond the resident form (outside graph capture); most need nothing. */
    default void prepare(FlexqKernels k, DecoderKernels d, int m) {
    }

    @Override
    void close();
}
