package io.flexq.runtime.spi;

import java.util.Collection;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.ServiceLoader;
import java.util.TreeMap;

/**
 * A registry of tensor types keyed by GGUF type id value. Not a singleton: a loader is given the
 * registry it should use; {@link #discover(ClassLoader, List)} builds one from the built-in types
 * plus every {@link TensorTypeProvider} on the class path.
 */
public final class TensorTypes {

    private final Map<Integer, TensorType> byId = new TreeMap<>();

    public TensorTypes(Collection<? extends TensorType> types) {
        types.forEach(this::register);
    }

    /** Built-in types plus those of every {@link TensorTypeProvider} visible to {@code loader}. */
    public static TensorTypes discover(ClassLoader loader, List<? extends TensorType> builtIns) {
        TensorTypes registry = new TensorTypes(builtIns);
        for (TensorTypeProvider provider : ServiceLoader.load(TensorTypeProvider.class, loader)) {
            provider.tensorTypes().forEach(registry::register);
        }
        return registry;
    }

    /** Adds a type; a second type with the same id is refused, naming both. */
    public void register(TensorType type) {
        TensorType previous = byId.putIfAbsent(type.id(), type);
        if (previous != null && previous != type) {
            throw new IllegalStateException("tensor type id " + type.id() + " registered twice: "
                    + previous.name() + " (" + previous.getClass().getName() + ") and "
                    + type.name() + " (" + type.getClass().getName() + ")");
        }
    }

    public Optional<TensorType> find(int id) {
        return Optional.ofNullable(byId.get(id));
    }

    /**
     * The type with this id, or an exception naming the tensor and the id.
     *
     * @param context where the id was read, e.g. "model.gguf: tensor blk.0.attn_q.weight"
     */
    public TensorType require(int id, String context) {
        TensorType type = byId.get(id);
        if (type == null) {
            throw new UnsupportedTensorTypeException(context + ": unknown tensor type id " + id
                    + " (known: " + byId.keySet() + "); a plugin jar that registers it may be missing from the class path");
        }
        return type;
    }

    public Collection<TensorType> all() {
        return Collections.unmodifiableCollection(byId.values());
    }

    /** Thrown when a file names a tensor type id nobody registered. */
    public static final class UnsupportedTensorTypeException extends RuntimeException {
        public UnsupportedTensorTypeException(String message) {
            super(io.flexq.runtime.model.Untrusted.message(message));
        }
    }
}
