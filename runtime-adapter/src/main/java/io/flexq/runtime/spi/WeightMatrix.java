package io.flexq.runtime.spi;

/**
 * A loaded weight matrix of {@code rows} outputs by {@code cols} inputs, owned by a backend.
 * Closing it releases whatever the backend holds (device memory, repacked copies).
 */
public interface WeightMatrix extends AutoCloseable {

    String name();

    int rows();

    int cols();

    /**
     * {@code out[t][r] = sum_c W[r][c] * in[t][c]} for every token t of the batch: one call per layer
     * for the whole batch (a GEMM for prefill, a GEMV for decode). {@code in.dim()} must equal
     * {@link #cols()}, {@code out.dim()} must equal {@link #rows()}; out's token count is set to in's.
     */
    void matmul(ActivationBatch in, ActivationBatch out);

    /**
     * Output rows {@code [rowFrom, rowTo)} only: {@code out[t][r] = sum_c W[r][c] * in[t][c]} for those r;
     * other entries of {@code out} are left as they are. Shapes as for {@link #matmul(ActivationBatch,
     * ActivationBatch)}. Meant for hosts that split a layer into row chunks themselves (Jlama runs one chunk
     * per worker thread): an implementation should run on the calling thread and touch only the weights of
     * those rows, so chunks need no copies of the matrix. Each row equals the full product's row within
     * rounding (bit for bit where the backend's kernel is exact, as FlexQ's integer modes are).
     *
     * <p>This default is correct for every backend but not efficient: it computes the whole product into a
     * scratch batch and copies the rows asked for.
     */
    default void matmul(ActivationBatch in, ActivationBatch out, int rowFrom, int rowTo) {
        checkRowRange(this, in, out, rowFrom, rowTo);
        try (java.lang.foreign.Arena arena = java.lang.foreign.Arena.ofConfined()) {
            ActivationBatch full = ActivationBatch.allocate(arena, in.tokens(), rows());
            matmul(in, full);
            long bytes = 4L * (rowTo - rowFrom);
            for (int t = 0; t < in.tokens(); t++) {
                java.lang.foreign.MemorySegment.copy(full.data(), full.offsetOf(t, rowFrom), out.data(), out.offsetOf(t, rowFrom), bytes);
            }
        }
        out.changed();
    }

    /** A short description for logs: backend, storage type, kernel. */
    String describe();

    /**
     * The spinning team this matrix's matmuls run on, if any: a forward can run its other parallel work (attention,
     * a prompt's per-token steps) on the same threads instead of waking a second pool's. Empty by default.
     */
    default java.util.Optional<io.flexq.runtime.cpu.SpinTeam> decodeTeam() {
        return java.util.Optional.empty();
    }

    @Override
    default void close() {
    }

    /** Checks shapes (as {@link #checkShapes}) and {@code 0 <= rowFrom <= rowTo <= rows()} of a row-range call. */
    static void checkRowRange(WeightMatrix w, ActivationBatch in, ActivationBatch out, int rowFrom, int rowTo) {
        if (rowFrom < 0 || rowFrom > rowTo || rowTo > w.rows()) {
            throw new IndexOutOfBoundsException(w.name() + ": row range [" + rowFrom + ", " + rowTo + ") outside [0, " + w.rows() + ")");
        }
        checkShapes(w, in, out);
    }

    /** Checks the shapes of a matmul call; backends call this first. */
    static void checkShapes(WeightMatrix w, ActivationBatch in, ActivationBatch out) {
        if (in.dim() != w.cols()) {
            throw new IllegalArgumentException(w.name() + ": input has dim " + in.dim() + ", matrix has " + w.cols() + " columns");
        }
        if (out.dim() != w.rows()) {
            throw new IllegalArgumentException(w.name() + ": output has dim " + out.dim() + ", matrix has " + w.rows() + " rows");
        }
        if (out.capacity() < in.tokens()) {
            throw new IllegalArgumentException(w.name() + ": output batch holds " + out.capacity() + " tokens, input has " + in.tokens());
        }
        if (out.tokens() != in.tokens()) {
            out.setTokens(in.tokens());
        }
    }
}
