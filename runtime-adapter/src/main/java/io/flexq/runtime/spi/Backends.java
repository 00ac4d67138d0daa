package io.flexq.runtime.spi;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.ServiceLoader;
import java.util.function.Consumer;
import java.util.stream.Collectors;

/**
 * The set of weight backends one model uses, ordered by priority. Built from a list (tests, embedding
 * code) or discovered with {@link ServiceLoader}. Not a singleton.
 */
public final class Backends {

    private final List<WeightBackend> ordered;
    private final Consumer<String> log;
    /** backend name -> storage type name -> matrices loaded, in the order first seen (for {@link #summary()}). */
    private final Map<String, Map<String, Integer>> loaded = new LinkedHashMap<>();

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

    /**
     * Every {@link WeightBackend} visible to {@code loader}, the CPU ones on one shared lease of
     * {@link io.flexq.runtime.cpu.PoolLease#defaultThreads()} threads ({@link WeightBackend#withThreads}): one set of
     * threads for the model's FQ6 and built-in matrices alike, not one spinning team each.
     */
    public static Backends discover(ClassLoader loader, Consumer<String> log) {
        io.flexq.runtime.cpu.PoolLease threads = io.flexq.runtime.cpu.PoolLease.owned(io.flexq.runtime.cpu.PoolLease.defaultThreads());
        List<WeightBackend> found = new ArrayList<>();
        ServiceLoader.load(WeightBackend.class, loader).forEach(b -> found.add(b.withThreads(threads)));
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
        WeightBackend backend = choose(source);
        WeightMatrix m = backend.load(source);
        synchronized (loaded) {
            loaded.computeIfAbsent(backend.name(), k -> new LinkedHashMap<>()).merge(source.type().name(), 1, Integer::sum);
        }
        return m;
    }

    /**
     * One line saying where the matrices loaded so far went and why the others were not used, e.g.
     * {@code backends: flexq-cuda 56 x FQ6, cpu 1 x F16; flexq-cpu not needed; ...} or
     * {@code backends: flexq-cpu 56 x FQ6, cpu 1 x F16; flexq-cuda unavailable (no CUDA device found)}.
     */
    public String summary() {
        StringBuilder sb = new StringBuilder("backends: ");
        synchronized (loaded) {
            sb.append(loaded.entrySet().stream()
                    .map(e -> e.getKey() + " " + e.getValue().entrySet().stream()
                            .map(t -> t.getValue() + " x " + t.getKey()).collect(Collectors.joining(", ")))
                    .collect(Collectors.joining("; ")));
            for (WeightBackend b : ordered) {
                if (!loaded.containsKey(b.name())) {
                    WeightBackend.Availability a = b.availability();
                    sb.append("; ").append(b.name()).append(a.available() ? " not used (no matrix it supports)" : " unavailable (" + a.reason() + ")");
                }
            }
        }
        return sb.toString();
    }
}
