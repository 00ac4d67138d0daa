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

    /** A short description for logs: backend, storage type, kernel. */
    String describe();

    @Override
    default void close() {
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
