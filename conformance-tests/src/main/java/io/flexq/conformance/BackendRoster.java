package io.flexq.conformance;

import io.flexq.runtime.spi.WeightBackend;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.ServiceLoader;

/**
 * The weight backends a conformance run sees, each with its availability as it reported it. A backend that
 * cannot run here (no GPU, no Vector API) is listed as skipped with its own reason, never counted as passed.
 * A backend whose {@code availability()} throws is listed as skipped with the exception as the reason.
 */
public record BackendRoster(List<Entry> entries) {

    /** One backend and what it said about itself. */
    public record Entry(WeightBackend backend, boolean available, String reason) {
        public String name() {
            return backend.name();
        }

        @Override
        public String toString() {
            return name() + " (priority " + backend.priority() + ", " + backend.getClass().getName() + "): "
                    + (available ? "available, " : "SKIPPED, ") + reason;
        }
    }

    public BackendRoster {
        entries = List.copyOf(entries);
    }

    /** Every backend {@link ServiceLoader} finds through {@code loader}, highest priority first. */
    public static BackendRoster discover(ClassLoader loader) {
        List<WeightBackend> found = new ArrayList<>();
        ServiceLoader.load(WeightBackend.class, loader).forEach(found::add);
        return of(found);
    }

    /** A roster of the given backends (a backend author's own instance, say). */
    public static BackendRoster of(List<? extends WeightBackend> backends) {
        List<Entry> entries = new ArrayList<>();
        for (WeightBackend b : backends) {
            WeightBackend.Availability a;
            try {
                a = b.availability();
            } catch (RuntimeException | LinkageError e) {
                a = WeightBackend.Availability.no("availability() threw " + e);
            }
            entries.add(new Entry(b, a.available(), a.reason()));
        }
        entries.sort(Comparator.comparingInt((Entry e) -> e.backend().priority()).reversed());
        return new BackendRoster(entries);
    }

    public List<Entry> available() {
        return entries.stream().filter(Entry::available).toList();
    }

    public List<Entry> skipped() {
        return entries.stream().filter(e -> !e.available()).toList();
    }

    /** One line per backend, for test logs. */
    public String describe() {
        StringBuilder sb = new StringBuilder("backends found: " + entries.size() + "\n");
        entries.forEach(e -> sb.append("  ").append(e).append('\n'));
        return sb.toString();
    }
}
