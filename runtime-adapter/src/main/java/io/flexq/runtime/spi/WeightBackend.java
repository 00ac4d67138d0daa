package io.flexq.runtime.spi;

/**
 * Something that can hold weight matrices and multiply activations by them: the built-in CPU backend,
 * FlexQ's CPU integer kernels, FlexQ's CUDA kernels. Found with {@link java.util.ServiceLoader};
 * the runtime picks, for each matrix, the available backend of highest priority that supports it.
 */
public interface WeightBackend {

    /** Short name for logs ("cpu", "flexq-cpu", "flexq-cuda"). */
    String name();

    /** Higher wins. The built-in CPU backend is 0. */
    int priority();

    /** Whether it can run here, and why not if it cannot (e.g. "no CUDA device found"). */
    Availability availability();

    /** Whether it can load a matrix of this type and shape. */
    boolean supports(TensorType type, int rows, int cols);

    WeightMatrix load(WeightSource source);

    /**
     * Whether its matrices live on an accelerator (flexq-cuda), so that a caller holding activations in host memory
     * pays a host -> device -> host round trip per product. Host backends return false.
     */
    default boolean onDevice() {
        return false;
    }

    /**
     * This backend with its CPU matmuls on the given threads (a run's {@code --threads}: every CPU backend of the
     * run shares them, so one set of threads serves the whole model). A backend that runs no CPU matmuls of its
     * own returns itself.
     */
    default WeightBackend withThreads(io.flexq.runtime.cpu.PoolLease threads) {
        return this;
    }

    record Availability(boolean available, String reason) {
        public static Availability yes(String reason) {
            return new Availability(true, reason);
        }

        public static Availability no(String reason) {
            return new Availability(false, reason);
        }
    }
}
