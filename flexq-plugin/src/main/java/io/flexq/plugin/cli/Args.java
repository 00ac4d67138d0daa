package io.flexq.plugin.cli;

import io.flexq.runtime.cli.CommandSpecs;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.ParseResult;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * A parsed command line of one subcommand: positional arguments and the flags given, checked against the
 * flags the subcommand declares. A bad value (intValue, choice) is a {@link CliException.Usage} naming the flag.
 *
 * <p>The parsing itself is picocli's, under the rules of every {@code flexq} command
 * ({@link io.flexq.runtime.cli.CommandSpecs}): {@code --name VALUE}, {@code --name=VALUE}, {@code --switch};
 * {@code --} ends the flags; a flag given twice is an error.
 */
public final class Args {

    private final String command;
    private final List<String> positional;
    private final Map<String, String> flags;

    private Args(String command, List<String> positional, Map<String, String> flags) {
        this.command = command;
        this.positional = positional;
        this.flags = flags;
    }

    /** The arguments picocli matched for {@code command}. */
    public static Args of(String command, ParseResult parsed) {
        Map<String, String> flags = new LinkedHashMap<>();
        for (OptionSpec o : parsed.matchedOptions()) {
            String name = o.longestName().substring(2);
            flags.put(name, o.arity().max() == 0 ? "true" : String.valueOf((Object) o.getValue()));
        }
        return new Args(command, List.copyOf(CommandSpecs.positionals(parsed)), flags);
    }

    public String command() {
        return command;
    }

    public List<String> positional() {
        return positional;
    }

    /** Fails unless there are between {@code min} and {@code max} positional arguments; {@code synopsis} names them. */
    public void expectPositional(int min, int max, String synopsis) {
        int n = positional.size();
        if (n < min || n > max) {
            String what = n < min ? "missing argument" : "too many arguments (" + String.join(" ", positional.subList(max, n)) + ")";
            throw new CliException.Usage(what + "; usage: flexq " + command + " " + synopsis);
        }
    }

    public String positional(int i) {
        return positional.get(i);
    }

    public boolean has(String flag) {
        return flags.containsKey(flag);
    }

    public Optional<String> value(String flag) {
        return Optional.ofNullable(flags.get(flag));
    }

    public String value(String flag, String defaultValue) {
        return flags.getOrDefault(flag, defaultValue);
    }

    /** An integer flag within [min, max], or the default when absent; a bad value names the flag. */
    public int intValue(String flag, int defaultValue, int min, int max) {
        String v = flags.get(flag);
        if (v == null) {
            return defaultValue;
        }
        int parsed;
        try {
            parsed = Integer.parseInt(v.trim());
        } catch (NumberFormatException e) {
            throw new CliException.Usage("--" + flag + ": expected an integer, got '" + v + "'");
        }
        if (parsed < min || parsed > max) {
            throw new CliException.Usage("--" + flag + ": " + parsed + " is outside [" + min + ", " + max + "]");
        }
        return parsed;
    }

    /** The value of one of {@code choices}, or the default when absent. */
    public String choice(String flag, String defaultValue, List<String> choices) {
        String v = flags.getOrDefault(flag, defaultValue);
        if (!choices.contains(v)) {
            throw new CliException.Usage("--" + flag + ": '" + v + "' is not one of " + String.join(", ", choices));
        }
        return v;
    }

    /** A readable regular file named by the user ({@code what} says which argument, for the message). */
    public static Path existingFile(String value, String what) {
        Path p = Path.of(value);
        if (!Files.exists(p)) {
            throw new CliException(what + ": no such file: " + value);
        }
        if (!Files.isRegularFile(p)) {
            throw new CliException(what + ": not a regular file: " + value);
        }
        if (!Files.isReadable(p)) {
            throw new CliException(what + ": not readable: " + value);
        }
        return p;
    }
}
