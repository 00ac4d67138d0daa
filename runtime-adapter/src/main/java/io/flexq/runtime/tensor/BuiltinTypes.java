package io.flexq.runtime.tensor;

import io.flexq.runtime.spi.TensorType;
import io.flexq.runtime.spi.TensorTypes;

import java.util.List;

/** The runtime's own rows of the tensor-type table, for {@link TensorTypes}. */
public final class BuiltinTypes {

    private BuiltinTypes() {
    }

    /** F32, F16, Q4_0, Q8_0, Q6_K, BF16 (by GGUF id). */
    public static List<TensorType> all() {
        return List.of(FloatTypes.F32, FloatTypes.F16, QuantTypes.Q4_0, QuantTypes.Q8_0, QuantTypes.Q6_K, FloatTypes.BF16);
    }

    /** A new registry holding the built-in types plus every plugin type visible to {@code loader}. */
    public static TensorTypes registry(ClassLoader loader) {
        return TensorTypes.discover(loader, all());
    }
}
