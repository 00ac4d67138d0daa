package io.flexq.plugin.cli;

import java.util.List;

/** One {@code flexq} subcommand: its name, what it takes, and how it runs. */
public interface Command {

    String name();

    /** One line for {@code flexq --help}. */
    String summary();

    /** Positional arguments as printed in usage lines, e.g. "IN OUT". */
    String synopsis();

    /** Longer help printed by {@code flexq NAME --help}, after the usage line and before the flags. */
    default String details() {
        return "";
    }

    /** Flags beyond the global ones ({@code --help}, {@code --verbose}). */
    List<Flag> flags();

    /**
     * Runs with parsed arguments; returns the exit status. Errors the user can fix are thrown as
     * {@link CliException} (or as the runtime's model-format / unsupported-type exceptions, which
     * {@link Main} also reports as one line).
     */
    int run(Args args, Console console) throws Exception;
}
