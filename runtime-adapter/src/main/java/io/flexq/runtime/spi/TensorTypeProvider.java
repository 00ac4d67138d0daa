package io.flexq.runtime.spi;

import java.util.List;

/**
 * Found through {@link java.util.ServiceLoader}: a plugin that adds tensor types to the registry
 * (for example FlexQ's FQ6 type). The runtime never names a plugin class.
 */
public interface TensorTypeProvider {
    List<TensorType> tensorTypes();
}
