package io.flexq.jlama;

import com.github.tjake.jlama.tensor.AbstractTensor;
import io.flexq.runtime.spi.WeightMatrix;

import java.util.function.Supplier;

/**
 * Where a Jlama linear weight's FQ6 form comes from: quantized at load from the tensor Jlama read
 * ({@link QuantizeAtLoad}), or read from an FQ6 GGUF made by {@code flexq quantize} from the same model
 * ({@link Fq6GgufWeights}).
 */
interface Fq6Weights extends AutoCloseable {

    /**
     * The FQ6 matrix of one linear weight, loaded by a FlexQ backend.
     *
     * @param hfName   the name Jlama asked for
     * @param ggufName its GGUF name (also the backend's tensor name)
     * @param hfShape  the shape Jlama's checkpoint gives the tensor (rows, cols)
     * @param original Jlama's own tensor (read only when quantizing at load)
     */
    WeightMatrix matrix(String hfName, String ggufName, int[] hfShape, Supplier<AbstractTensor> original);

    /** One line for logs: where the weights come from, which mode. */
    String describe();

    @Override
    default void close() {
    }
}
