package io.flexq.runtime.cli;

import picocli.CommandLine.Model.OptionSpec;

import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * {@code --kv-cache f16|f32} of the commands that load a model: the element type of the CPU sessions' KV cache. It sets
 * the system property {@value #PROPERTY} (read by the runtime's KvCache when a session is made) before the model is
 * loaded; absent, the property keeps whatever it was (default f16 where the native attention runs, else f32).
 */
public final class KvCacheOption {

    public static final String PROPERTY = "flexq.cpu.kv";
    public static final String NAME = "kv-cache";
    public static final List<String> CHOICES = List.of("f16", "f32");
    public static final String HELP = "CPU KV cache: f16 (the default where the native attention runs, as llama.cpp's; half the memory"
            + " and faster at long contexts) or f32";

    private KvCacheOption() {
    }

    public static OptionSpec option() {
        return CommandSpecs.value(NAME, "f16|f32", HELP);
    }

    /** Checks the value and, if given, sets {@value #PROPERTY} to it. */
    public static void apply(Optional<String> value) {
        if (value.isEmpty()) {
            return;
        }
        String v = value.get().trim().toLowerCase(Locale.ROOT);
        if (!CHOICES.contains(v)) {
            throw new UsageException("--" + NAME + ": '" + value.get() + "' is not one of " + String.join(", ", CHOICES));
        }
        System.setProperty(PROPERTY, v);
    }
}
