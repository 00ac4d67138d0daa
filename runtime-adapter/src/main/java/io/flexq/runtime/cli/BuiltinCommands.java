package io.flexq.runtime.cli;

import java.util.List;

/**
 * The runtime's own commands, first in {@code flexq --help}. A command that lives in runtime-adapter (e.g.
 * {@code serve} from {@code io.flexq.runtime.serve}) is added to this list; a command from another jar comes
 * through its own {@link CommandProvider} service entry instead.
 */
final class BuiltinCommands implements CommandProvider {

    @Override
    public List<Object> commands(Cli cli) {
        return List.of(
                GenerateCommand.spec(cli),
                ChatCommand.spec(cli),
                BenchCommand.spec(cli),
                ServeCommand.spec(cli)
        );
    }
}
