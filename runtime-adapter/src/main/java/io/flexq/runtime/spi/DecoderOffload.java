package io.flexq.runtime.spi;

import io.flexq.runtime.llama.LlamaConfig;
import io.flexq.runtime.model.ModelFile;

import java.util.Optional;
import java.util.function.Consumer;

/**
 * Found through {@link java.util.ServiceLoader}: a backend that runs whole decoder blocks (norm, attention with its
 * own KV cache, MLP, residuals) on a device, so a decode step makes one host round trip instead of one per matmul.
 *
 * <p>The forward pass asks each available offload, highest priority first, for a {@link DeviceDecoder}; if one
 * answers, every block runs there and the host keeps only the embedding lookup, the final norm and the output
 * head (the head is a {@link WeightMatrix} and may itself live on the device). If none answers, the blocks run on
 * the host through {@link WeightBackend}s: that CPU path is the default.
 *
 * <p>Contract of the residual stream handed over: row t of the batch is the hidden state of the token at position
 * {@code pos + t}, after the embedding on entry and after the last block (before the final RMSNorm) on exit.
 * Results must match the host path up to the device's rounding.
 */
public interface DecoderOffload {

    /** Short name for logs. */
    String name();

    /** Higher is asked first. */
    int priority();

    /** Whether it can run here, and why not (e.g. "no CUDA device found"). */
    WeightBackend.Availability availability();

    /**
     * A decoder holding every block of {@code model} on the device, or empty if this offload does not take this
     * model (tensor types, shapes, memory); say why through {@code log}.
     */
    Optional<DeviceDecoder> open(LlamaConfig config, ModelFile model, Consumer<String> log);

    /** All decoder blocks of one model, resident on a device. Closing frees the device memory. */
    interface DeviceDecoder extends AutoCloseable {

        String describe();

        /** A new sequence with its own KV cache for positions [0, contextLength). */
        Sequence newSequence(int contextLength);

        @Override
        void close();
    }

    /** One sequence (one conversation): a KV cache on the device. */
    interface Sequence extends AutoCloseable {

        /**
         * Runs every block, in place, on the {@code hidden.tokens()} rows of {@code hidden} at positions
         * [pos, pos + n), causally (a token sees positions up to its own). Keys and values of earlier calls at
         * positions below {@code pos} are kept; those at pos and above are overwritten (so a caller can rewind).
         */
        void forward(ActivationBatch hidden, int pos);

        @Override
        void close();
    }
}
