package io.flexq.plugin.cli;

import io.flexq.runtime.cli.Cli;
import io.flexq.runtime.cli.CommandProvider;
import io.flexq.runtime.cli.CommandSpecs;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;

/**
 * The plugin's {@code flexq} commands (quantize, inspect, eval, quality), contributed to the runtime's command tree
 * through {@code META-INF/services/io.flexq.runtime.cli.CommandProvider}. Each {@link Command} declares its flags
 * as data; this turns them into a picocli spec, so they are parsed by the same parser and rules as every command.
 */
public final class PluginCommands implements CommandProvider {

    private final Supplier<List<? extends Command>> commands;

    /** The standard commands (what ServiceLoader instantiates). */
    public PluginCommands() {
        this(() -> List.of(new QuantizeCommand(), new InspectCommand(), new EvalCommand(), new QualityCommand()));
    }

    public PluginCommands(Supplier<List<? extends Command>> commands) {
        this.commands = commands;
    }

    @Override
    public List<Object> commands(Cli cli) {
        List<Object> specs = new ArrayList<>();
        for (Command c : commands.get()) {
            specs.add(spec(c, cli));
        }
        return specs;
    }

    /** The picocli spec of one declared command; it runs with {@link Args} and a {@link Console} of {@code cli}. */
    static CommandSpec spec(Command c, Cli cli) {
        List<OptionSpec> options = new ArrayList<>();
        for (Flag f : c.flags()) {
            options.add(f.takesValue() ? CommandSpecs.value(f.name(), f.valueName(), f.help()) : CommandSpecs.flag(f.name(), f.help()));
        }
        return CommandSpecs.command(c.name(), c.synopsis(), c.summary(), c.details(), options, true,
                parsed -> c.run(Args.of(c.name(), parsed), Console.of(cli)));
    }
}
