package io.flexq.runtime.cli;

import java.util.List;

/**
 * Contributes subcommands to {@code flexq}, found through {@link java.util.ServiceLoader}: a jar that lists its
 * implementation in {@code META-INF/services/io.flexq.runtime.cli.CommandProvider} and is on the class path adds
 * its commands to the one command tree ({@code flexq --help} lists them), parsed by the same parser under the same
 * rules as the runtime's own.
 *
 * <p>Each element is what picocli's {@code CommandLine.addSubcommand} accepts: an object of a class annotated with
 * {@code @picocli.CommandLine.Command} (implementing {@code Callable<Integer>} or {@code Runnable}), or a
 * {@code CommandSpec} (see {@link CommandSpecs} for specs built from a flag list). {@link Main} adds {@code --help},
 * {@code --verbose} and {@code --quiet} to every command that does not declare them, and reports what a command
 * throws (see {@link CommandException}).
 */
public interface CommandProvider {

    /** New command objects for one run of {@code flexq}; {@code cli} gives the streams and the verbosity. */
    List<Object> commands(Cli cli);
}
