package io.flexq.runtime.cli;

import picocli.CommandLine.Model.OptionSpec;

import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * {@code --device auto|cpu|cuda} of the commands that load a model: it sets the system property
 * {@value #PROPERTY} before the model is loaded, and the runtime places the model by it. Nothing else.
 */
public final class DeviceOption {

    public static final String PROPERTY = "flexq.device";
    public static final String NAME = "device";
    public static final List<String> CHOICES = List.of("auto", "cpu", "cuda");
    public static final String HELP = "where the model runs: auto (a GPU when a backend has one), cpu or cuda (default auto)";

    private DeviceOption() {
    }

    public static OptionSpec option() {
        return CommandSpecs.value(NAME, "auto|cpu|cuda", HELP);
    }

    /** Checks the value (absent means auto) and sets {@value #PROPERTY} to it. */
    public static String apply(Optional<String> value) {
        String v = value.map(s -> s.trim().toLowerCase(Locale.ROOT)).orElse("auto");
        if (!CHOICES.contains(v)) {
            throw new UsageException("--" + NAME + ": '" + value.orElse("") + "' is not one of " + String.join(", ", CHOICES));
        }
        System.setProperty(PROPERTY, v);
        return v;
    }
}
