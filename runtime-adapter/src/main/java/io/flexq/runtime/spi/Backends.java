package io.flexq.runtime.spi;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.ServiceLoader;
import java.util.function.Consumer;

/**
 * The set of weight backends one model uses, ordered by priority. Built from a list (tests, embedding
 * code) or discovered with {@link ServiceLoader}. Not a singleton.
 */
public final class Backends {

    private final List<WeightBackend> ordered;
    private final Consumer<String> log;

    public Backends(List<? extends WeightBackend> backends, Consumer<String> log) {
        this.ordered = new ArrayList<>(backends);
        this.ordered.sort(Comparator.comparingInt(WeightBackend::priority).reversed());
        this.log = log;
        for (WeightBackend b : ordered) {
            WeightBackend.Availability a = b.availability();
            log.accept("backend " + b.name() + " (priority " + b.priority() + "): "
                    + (a.available() ? "available" : "unavailable") + ", " + a.reason());
        }
    }

    /** Every {@link WeightBackend} visible to {@code loader}. */
    public static Backends discover(ClassLoader loader, Consumer<String> log) {
        List<WeightBackend> found = new ArrayList<>();
        ServiceLoader.load(WeightBackend.class, loader).forEach(found::add);
        return new Backends(found, log);
    }

    public List<WeightBackend> all() {
        return List.copyOf(ordered);
    }

    /** The available backend of highest priority that supports this matrix. */
    public WeightBackend choose(WeightSource source) {
        for (WeightBackend b : ordered) {
            if (b.availability().available() && b.supports(source.type(), source.rows(), source.cols())) {
                return b;
            }
        }
        throw new TensorTypes.UnsupportedTensorTypeException("tensor " + source.name() + ": no available backend supports type "
                + source.type().name() + " (id " + source.type().id() + ") at " + source.rows() + " x " + source.cols()
                + "; backends: " + ordered.stream().map(WeightBackend::name).toList());
    }

    public WeightMatrix load(WeightSource source) {
        return choose(source).load(source);
    }
}
