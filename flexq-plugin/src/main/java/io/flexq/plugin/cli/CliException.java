package io.flexq.plugin.cli;

import io.flexq.runtime.cli.CommandException;

/**
 * An error the user can fix (a bad flag, a missing file, an unsupported model): the flexq command prints its
 * message as one line and exits with {@link #exitCode()}, without a stack trace unless {@code --verbose}
 * (the runtime's {@link CommandException} contract).
 */
public class CliException extends CommandException {

    public CliException(String message) {
        this(message, 1, null);
    }

    public CliException(String message, Throwable cause) {
        this(message, 1, cause);
    }

    protected CliException(String message, int exitCode, Throwable cause) {
        super(message, exitCode, cause);
    }

    /** A command line that does not parse: exit status 2, and the message points at {@code --help}. */
    public static final class Usage extends CliException {
        public Usage(String message) {
            super(message, 2, null);
        }
    }
}
