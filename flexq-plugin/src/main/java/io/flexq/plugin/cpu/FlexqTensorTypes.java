package io.flexq.plugin.cpu;

import io.flexq.runtime.spi.TensorType;
import io.flexq.runtime.spi.TensorTypeProvider;

import java.util.List;

/** Registers FlexQ's tensor types (FQ6, id 1030) with the runtime through {@link java.util.ServiceLoader}. */
public final class FlexqTensorTypes implements TensorTypeProvider {

    @Override
    public List<TensorType> tensorTypes() {
        return List.of(new Fq6TensorType());
    }
}
