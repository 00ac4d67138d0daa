package io.flexq.conformance.cli;

import io.flexq.runtime.cli.Cli;
import io.flexq.runtime.cli.CommandProvider;

import java.util.List;

/** Contributes {@code flexq conformance} when this jar is on the class path. */
public final class ConformanceCommands implements CommandProvider {

    @Override
    public List<Object> commands(Cli cli) {
        return List.of(new ConformanceCommand(cli));
    }
}
