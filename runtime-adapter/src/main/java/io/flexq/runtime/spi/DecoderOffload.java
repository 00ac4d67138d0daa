package io.flexq.runtime.spi;

import io.flexq.runtime.llama.LlamaConfig;
import io.flexq.runtime.llama.RopeAngles;
import io.flexq.runtime.model.ModelFile;

import java.util.Optional;
import java.util.function.Consumer;

/**
 * Found through {@link java.util.ServiceLoader}: a backend that runs the whole model on a device (embedding lookup,
 * every decoder block with its own KV cache, final norm, output head, argmax), so a decode step sends one token id
 * to the device and gets one token id back. Per-matrix offload through {@link WeightBackend} pays two host copies
 * and a synchronization per matmul; this seam exists so a device path does not.
 *
 * <p>The runtime asks each available offload, highest priority first, for a {@link DeviceModel}; if one answers, the
 * model runs there and the host keeps only the tokenizer and the sampler. If none answers, everything runs on the
 * host through {@link WeightBackend}s: that CPU path is the default and the reference.
 *
 * <p>System property {@code flexq.device}: {@code auto} (default: the first offload that accepts), {@code cpu} (no
 * offload is asked), {@code cuda} (an offload must accept, or loading fails with the reasons).
 *
 * <p>Results must match the host path up to the device's rounding (the runtime's tests bound the difference).
 */
public interface DecoderOffload {

    /** Short name for logs ("flexq-cuda"). */
    String name();

    /** Higher is asked first. */
    int priority();

    /** Whether it can run here, and why not (e.g. "no CUDA device found"). */
    WeightBackend.Availability availability();

    /**
     * The whole of {@code model} resident on the device, or empty if this offload does not take this model (tensor
     * types, shapes, memory); say why through {@code log}. {@code rope} gives the rotation angles exactly as the host
     * path computes them.
     */
    Optional<DeviceModel> open(LlamaConfig config, ModelFile model, RopeAngles rope, Consumer<String> log);

    /** What a forward should leave readable on the host when it returns. */
    enum Want {
        /** Nothing: the tokens only fill the KV cache (a prompt chunk that is not the last). */
        NOTHING,
        /** The argmax of the last row's logits, computed on the device; only that id crosses to the host. */
        GREEDY,
        /** The logits of the last row (for a sampler that needs them). */
        LAST_LOGITS,
        /** The logits of every row (perplexity, KL divergence). */
        ALL_LOGITS
    }

    /** One model on a device. Closing it frees the device memory; its sequences must be closed first. */
    interface DeviceModel extends AutoCloseable {

        /** Where and how it runs, e.g. "flexq-cuda on device 0 (NVIDIA H200 ...), 6.1 GiB of weights". */
        String describe();

        /** A new sequence with its own KV cache for positions [0, contextLength). */
        Sequence newSequence(int contextLength);

        /**
         * One greedy decode step of several sequences at once (batched decode): row i feeds {@code tokens[i]} to
         * {@code sequences[i]} at its next position and returns the argmax of its logits. The sequences must be
         * distinct and of this model.
         */
        int[] decodeGreedy(Sequence[] sequences, int[] tokens);

        @Override
        void close();
    }

    /** One sequence (one conversation): a KV cache on the device and the position reached. */
    interface Sequence extends AutoCloseable {

        /** Positions in the cache: the next token goes here. */
        int position();

        /** Forgets positions from {@code position} on (a caller rewinding to reuse a prefix). */
        void rewind(int position);

        /**
         * Runs tokens[off, off + n) at positions [position(), position() + n), causally, and advances the position.
         *
         * @return the argmax of the last row's logits for {@link Want#GREEDY}, else -1
         */
        int forward(int[] tokens, int off, int n, Want want);

        /** Copies the logits of row {@code row} of the last forward (0 for {@link Want#LAST_LOGITS}) into dst[0, vocab). */
        void logits(int row, float[] dst);

        @Override
        void close();
    }
}
