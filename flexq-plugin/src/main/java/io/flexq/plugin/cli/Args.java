package io.flexq.plugin.cli;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * A parsed command line of one subcommand: positional arguments and the flags given, checked against the
 * flags the subcommand declares. Parse errors are {@link CliException.Usage}s that name the flag.
 *
 * <p>Accepted forms: {@code --name VALUE}, {@code --name=VALUE}, {@code --switch}; {@code --} ends the flags.
 * A flag given twice keeps the last value (so scripts can override defaults).
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

    public static Args parse(String command, List<Flag> known, List<String> argv) {
        Map<String, Flag> byName = new LinkedHashMap<>();
        known.forEach(f -> byName.put(f.name(), f));
        List<String> positional = new ArrayList<>();
        Map<String, String> flags = new LinkedHashMap<>();
        boolean flagsEnded = false;
        for (int i = 0; i < argv.size(); i++) {
            String a = argv.get(i);
            if (flagsEnded || !a.startsWith("--") || a.equals("-")) {
                positional.add(a);
                continue;
            }
            if (a.equals("--")) {
                flagsEnded = true;
                continue;
            }
            String body = a.substring(2);
            int eq = body.indexOf('=');
            String name = eq < 0 ? body : body.substring(0, eq);
            Flag flag = byName.get(name);
            if (flag == null) {
                throw new CliException.Usage("unknown flag --" + name + " (flags of 'flexq " + command + "': "
                        + String.join(", ", byName.keySet().stream().map(n -> "--" + n).toList()) + ")");
            }
            if (!flag.takesValue()) {
                if (eq >= 0) {
                    throw new CliException.Usage("--" + name + " is a switch and takes no value (got '" + a + "')");
                }
                flags.put(name, "true");
            } else if (eq >= 0) {
                flags.put(name, body.substring(eq + 1));
            } else {
                if (i + 1 >= argv.size()) {
                    throw new CliException.Usage("--" + name + " needs a value: --" + name + " " + flag.valueName());
                }
                flags.put(name, argv.get(++i));
            }
        }
        return new Args(command, List.copyOf(positional), flags);
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
