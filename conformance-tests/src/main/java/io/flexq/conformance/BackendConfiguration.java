package io.flexq.conformance;

import io.flexq.runtime.spi.DecoderOffload;
import io.flexq.runtime.spi.WeightBackend;

import java.util.ArrayList;
import java.util.List;

/**
 * A set of backends (and decoder offloads) the runtime is loaded with; the runtime then places each matrix on the
 * available backend of highest priority that supports it.
 */
public record BackendConfiguration(String name, List<WeightBackend> backends, List<DecoderOffload> offloads) {

    public BackendConfiguration {
        backends = List.copyOf(backends);
        offloads = List.copyOf(offloads);
    }

    /**
     * Every configuration worth running: all available backends with every available offload (what a user gets),
     * then all available backends without offloads, then again without the backend of highest priority, and so
     * on down to the lowest (the built-in CPU backend). A model runs with those that can hold all its matrices;
     * two configurations that place every matrix alike give the same numbers, so a caller may skip the second.
     */
    public static List<BackendConfiguration> chain(BackendRoster roster, List<DecoderOffload> offloads) {
        List<WeightBackend> available = roster.available().stream().map(BackendRoster.Entry::backend).toList();
        List<DecoderOffload> usable = offloads.stream().filter(o -> {
            try {
                return o.availability().available();
            } catch (RuntimeException | LinkageError e) {
                return false;
            }
        }).toList();
        List<BackendConfiguration> out = new ArrayList<>();
        if (!usable.isEmpty()) {
            out.add(new BackendConfiguration(names(available) + " + offload " + usable.stream().map(DecoderOffload::name).toList(),
                    available, usable));
        }
        for (int i = 0; i < available.size(); i++) {
            List<WeightBackend> sub = available.subList(i, available.size());
            out.add(new BackendConfiguration(names(sub), sub, List.of()));
        }
        return out;
    }

    private static String names(List<WeightBackend> bs) {
        return String.join(" > ", bs.stream().map(WeightBackend::name).toList());
    }

    @Override
    public String toString() {
        return name;
    }
}
