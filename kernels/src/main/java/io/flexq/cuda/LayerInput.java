package io.flexq.cuda;

/**
 * The input of one or more matmuls: M rows of K fp32 values on the device (row stride K), and the A6/A8 forms the
 * quantized matmuls read (flexq.cu's int8 records and scales), made at most once each: either by the kernel that
 * produced the rows (the fused RMSNorm/SwiGLU quantizers, which call {@link #producedAs}) or on first need.
 */
final class LayerInput {

    final long x;
    final int cols;
    final int rows;
    private final DecoderWork work;
    private final boolean[] ready = new boolean[2];  // A6, A8

    LayerInput(DecoderWork work, long x, int cols, int rows) {
        this.work = work;
        this.x = x;
        this.cols = cols;
        this.rows = rows;
    }

    DecoderWork work() {
        return work;
    }

    /** Declares that the records and scales for {@code bits} already hold these rows (0: nothing was quantized). */
    LayerInput producedAs(int bits) {
        if (bits != 0) {
            ready[slot(bits)] = true;
        }
        return this;
    }

    /** The records for {@code bits}, quantizing now (on the stream) if no kernel produced them. */
    DeviceBuffer records(FlexqKernels k, int bits) {
        if (!ready[slot(bits)]) {
            DeviceBuffer xb = DeviceBuffer.borrowed(k.device(), "layer input", x, (long) rows * cols * 4);
            k.quantize(bits, xb, cols, rows, cols, work.act(bits), null, work.sa(bits));
            ready[slot(bits)] = true;
        }
        return work.act(bits);
    }

    DeviceBuffer scales(int bits) {
        return work.sa(bits);
    }

    private static int slot(int bits) {
        return switch (bits) {
            case 6 -> 0;
            case 8 -> 1;
            default -> throw new IllegalArgumentException("activation bits must be 6 or 8, got " + bits);
        };
    }
}
