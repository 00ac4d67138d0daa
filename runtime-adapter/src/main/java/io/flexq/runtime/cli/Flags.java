package io.flexq.runtime.cli;

import picocli.CommandLine.ParseResult;

import java.util.Optional;

/**
 * The flags of one parsed runtime command, read by name. Values are text until read here, so an unparsable number
 * or a value out of range is a {@link UsageException} naming the flag.
 */
final class Flags {

    private final ParseResult parsed;

    private Flags(ParseResult parsed) {
        this.parsed = parsed;
    }

    static Flags of(ParseResult parsed) {
        return new Flags(parsed);
    }

    boolean has(String name) {
        return parsed.hasMatchedOption(check(name));
    }

    Optional<String> text(String name) {
        return Optional.ofNullable(parsed.matchedOptionValue(check(name), (String) null));
    }

    Optional<Integer> integer(String name, int min) {
        return integer(name, min, Integer.MAX_VALUE);
    }

    Optional<Integer> integer(String name, int min, int max) {
        return text(name).map(v -> {
            int n;
            try {
                n = Integer.parseInt(v.trim());
            } catch (NumberFormatException e) {
                throw new UsageException("--" + name + " expects a whole number, got '" + v + "'");
            }
            if (n < min) {
                throw new UsageException("--" + name + " must be at least " + min + ", got " + n);
            }
            if (n > max) {
                throw new UsageException("--" + name + " must be at most " + max + ", got " + n);
            }
            return n;
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
        if (parsed.commandSpec().findOption("--" + name) == null) {
            throw new IllegalStateException("flag --" + name + " is not declared for " + parsed.commandSpec().name());
        }
        return "--" + name;
    }
}
