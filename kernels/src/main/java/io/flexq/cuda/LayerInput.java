package io.flexq.cuda;

/**
 * The input of one or more matmuls: M rows of K fp32 values on the device (row stride K), and the A6/A8 forms the
 * quantized matmuls read (flexq.cu's int8 records and scales), made at most once each: either by the kernel that
 * produced the rows (the fused RMSNorm/SwiGLU quantizers, which call {@link #producedAs}) or on first need.
 *
 * <p>The records come in two k orders over the same buffer ({@link DecoderWork#act}): the INT8-MMA order of the
 * GEMV/GEMM kernels, and the natural order of the wgmma kernels ({@link Fq6Linear#natural}). The buffer holds one of
 * them at a time; a matmul that wants the other order quantizes the fp32 rows again (the stream runs in order, so a
 * later matmul never reads a form an earlier one overwrote without this object knowing).
 */
final class LayerInput {

    private static final int NONE = 0, MMA_ORDER = 1, NATURAL = 2;

    final long x;
    final int cols;
    final int rows;
    private final DecoderWork work;
    private final int[] held = new int[2];  // A6, A8: NONE, MMA_ORDER or NATURAL

    LayerInput(DecoderWork work, long x, int cols, int rows) {
        this.work = work;
        this.x = x;
        this.cols = cols;
        this.rows = rows;
    }

    DecoderWork work() {
        return work;
    }

    /** Declares that the records and scales for {@code bits} already hold these rows in the INT8-MMA order (0: nothing). */
    LayerInput producedAs(int bits) {
        return producedAs(bits, false);
    }

    /** Declares that the records for {@code bits} hold these rows in natural order if {@code natural}, else in the MMA order. */
    LayerInput producedAs(int bits, boolean natural) {
        if (bits != 0) {
            held[slot(bits)] = natural ? NATURAL : MMA_ORDER;
        }
        return this;
    }

    /** The records for {@code bits} in the INT8-MMA order, quantizing now (on the stream) if they are not held. */
    DeviceBuffer records(FlexqKernels k, int bits) {
        return records(k, bits, false);
    }

    /** The records for {@code bits} in natural order if {@code natural}, quantizing now (on the stream) if they are not held. */
    DeviceBuffer records(FlexqKernels k, int bits, boolean natural) {
        int want = natural ? NATURAL : MMA_ORDER;
        if (held[slot(bits)] != want) {
            DeviceBuffer xb = DeviceBuffer.borrowed(k.device(), "layer input", x, (long) rows * cols * 4);
            k.quantize(bits, natural, xb, cols, rows, cols, work.act(bits), null, work.sa(bits));
            held[slot(bits)] = want;
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
