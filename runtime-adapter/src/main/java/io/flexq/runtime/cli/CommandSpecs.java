package io.flexq.runtime.cli;

import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.Model.PositionalParamSpec;
import picocli.CommandLine.ParseResult;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;

/**
 * Picocli command specs built from a list of flags, for commands that declare their flags as data (the runtime's
 * generate, chat and bench; the plugin's commands). The rules every {@code flexq} command follows:
 *
 * <ul>
 *   <li>{@code --name VALUE} or {@code --name=VALUE}; a switch is {@code --name} alone;</li>
 *   <li>every value is taken as text and checked by the command, so a bad value's message names the flag;</li>
 *   <li>a flag given twice is an error (picocli's default, never relaxed here): a script that repeats one has a
 *       mistake in it, and taking either value silently would hide it.</li>
 * </ul>
 */
public final class CommandSpecs {

    /** Printed at the end of every command's help. */
    public static final String RULES = "A flag takes its value as --name VALUE or --name=VALUE; giving a flag twice is an error.";

    private CommandSpecs() {
    }

    /** What a command does with its parsed command line; returns the exit status. */
    @FunctionalInterface
    public interface Body {
        int run(ParseResult parsed) throws Exception;
    }

    /** {@code --name LABEL}: a flag with one value. */
    public static OptionSpec value(String name, String label, String help) {
        return OptionSpec.builder("--" + name).paramLabel(label).type(String.class).arity("1").description(escape(help)).build();
    }

    /** {@code --name}: a switch. */
    public static OptionSpec flag(String name, String help) {
        return OptionSpec.builder("--" + name).type(boolean.class).arity("0").description(escape(help)).build();
    }

    /**
     * A command named {@code name}: help shows {@code usage: flexq NAME SYNOPSIS [flags]}, {@code summary} (also its
     * line in {@code flexq --help}), then {@code details} and the flags. With {@code positionals} it takes any number
     * of positional arguments (the command checks how many); without, a positional argument is an error.
     */
    public static CommandSpec command(String name, String synopsis, String summary, String details, List<OptionSpec> options,
                                      boolean positionals, Body body) {
        Runner runner = new Runner(body);
        CommandSpec spec = CommandSpec.wrapWithoutInspection(runner);
        runner.spec = spec;
        spec.name(name);
        spec.usageMessage()
                .synopsisHeading("usage: ")
                .customSynopsis("flexq " + name + (synopsis.isEmpty() ? "" : " " + synopsis) + (options.isEmpty() ? "" : " [flags]"))
                .description(description(summary, details))
                .optionListHeading("%nflags:%n")
                .sortOptions(false)
                .footer("", RULES);
        options.forEach(spec::addOption);
        if (positionals) {
            spec.addPositional(PositionalParamSpec.builder().paramLabel("ARG").type(String[].class).arity("0..*").hidden(true).build());
        }
        return spec;
    }

    private static String[] description(String summary, String details) {
        List<String> lines = new ArrayList<>();
        lines.add(escape(summary));
        if (!details.isBlank()) {
            lines.add("");
            details.strip().lines().map(CommandSpecs::escape).forEach(lines::add);
        }
        return lines.toArray(String[]::new);
    }

    /** Picocli formats %n and %% in help text: a literal % stays one. */
    static String escape(String text) {
        return text.replace("%", "%%");
    }

    /** The positional arguments a command got (empty when none). */
    public static List<String> positionals(ParseResult parsed) {
        List<String> out = new ArrayList<>();
        for (PositionalParamSpec p : parsed.matchedPositionals()) {
            for (String v : p.stringValues()) {
                out.add(v);
            }
        }
        return out;
    }

    private static final class Runner implements Callable<Integer> {
        private final Body body;
        CommandSpec spec;

        Runner(Body body) {
            this.body = body;
        }

        @Override
        public Integer call() throws Exception {
            return body.run(spec.commandLine().getParseResult());
        }
    }
}
