package io.flexq.plugin.cli;

import io.flexq.runtime.cli.Cli;

import java.io.PrintStream;
import java.util.List;

/**
 * Runs plugin commands in-process through the runtime's one {@code flexq} command tree
 * ({@link io.flexq.runtime.cli.Main}), with a chosen set of commands: for tests and embedding. The {@code flexq}
 * launcher runs {@link io.flexq.runtime.cli.Main}, which finds these commands through {@link PluginCommands}.
 */
public final class Main {

    private final List<? extends Command> commands;

    public Main(List<? extends Command> commands) {
        this.commands = List.copyOf(commands);
    }

    /** The plugin's standard subcommands. */
    public static Main standard() {
        return new Main(List.of(new QuantizeCommand(), new InspectCommand(), new EvalCommand(), new QualityCommand()));
    }

    /** Runs one command line (error policy: {@link io.flexq.runtime.cli.Main}); returns the exit status. Never throws. */
    public int run(String[] argv, PrintStream out, PrintStream err, boolean interactive) {
        return io.flexq.runtime.cli.Main.run(argv, new Cli(System.in, out, err, interactive), List.of(new PluginCommands(() -> commands)));
    }
}
