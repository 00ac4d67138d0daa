package io.flexq.runtime.cli;

import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/**
 * Parses {@code --name value}, {@code --name=value} and boolean {@code --name} flags against a declared set.
 * Unknown flags, missing values and unparsable numbers are {@link UsageException}s naming the flag.
 */
final class Flags {

    enum Kind { TEXT, INT, LONG, NUMBER, SWITCH }

    private final String command;
    private final Map<String, Kind> declared;
    private final Map<String, String> values = new HashMap<>();

    private Flags(String command, Map<String, Kind> declared) {
        this.command = command;
        this.declared = declared;
    }

    static Flags parse(String command, Map<String, Kind> declared, String[] args, int from) {
        Flags f = new Flags(command, new LinkedHashMap<>(declared));
        for (int i = from; i < args.length; i++) {
            String a = args[i];
            if (!a.startsWith("--") || a.length() == 2) {
                throw new UsageException("unexpected argument '" + a + "' for '" + command + "' (flags start with --; see flexq " + command + " --help)");
            }
            String name = a.substring(2);
            String value = null;
            int eq = name.indexOf('=');
            if (eq >= 0) {
                value = name.substring(eq + 1);
                name = name.substring(0, eq);
            }
            Kind kind = declared.get(name);
            if (kind == null) {
                throw new UsageException("unknown flag --" + name + " for '" + command + "' (see flexq " + command + " --help)");
            }
            if (kind == Kind.SWITCH) {
                if (value != null) {
                    throw new UsageException("flag --" + name + " takes no value");
                }
                value = "true";
            } else if (value == null) {
                if (i + 1 >= args.length) {
                    throw new UsageException("flag --" + name + " needs a value");
                }
                value = args[++i];
            }
            if (f.values.put(name, value) != null) {
                throw new UsageException("flag --" + name + " given twice");
            }
        }
        return f;
    }

    boolean has(String name) {
        return values.containsKey(check(name));
    }


    Optional<String> text(String name) {
        return Optional.ofNullable(values.get(check(name)));
    }

    Optional<Integer> integer(String name, int min) {
        return text(name).map(v -> {
            try {
                int n = Integer.parseInt(v.trim());
                if (n < min) {
                    throw new UsageException("--" + name + " must be at least " + min + ", got " + n);
                }
                return n;
            } catch (NumberFormatException e) {
                throw new UsageException("--" + name + " expects a whole number, got '" + v + "'");
            }
        });
    }

    Optional<Long> longValue(String name) {
        return text(name).map(v -> {
            try {
                return Long.parseLong(v.trim());
            } catch (NumberFormatException e) {
                throw new UsageException("--" + name + " expects a whole number, got '" + v + "'");
            }
        });
    }

    Optional<Double> number(String name, double min, double max) {
        return text(name).map(v -> {
            double d;
            try {
                d = Double.parseDouble(v.trim());
            } catch (NumberFormatException e) {
                throw new UsageException("--" + name + " expects a number, got '" + v + "'");
            }
            if (!(d >= min && d <= max)) {
                throw new UsageException("--" + name + " must be in [" + min + ", " + max + "], got " + v);
            }
            return d;
        });
    }

    private String check(String name) {
        if (!declared.containsKey(name)) {
            throw new IllegalStateException("flag --" + name + " is not declared for " + command);
        }
        return name;
    }
}
