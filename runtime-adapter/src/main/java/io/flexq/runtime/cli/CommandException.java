package io.flexq.runtime.cli;

/**
 * An error the user can fix (a missing file, a model the runtime cannot run, a bad flag value found while the
 * command runs): {@link Main} prints its message as one line, {@code flexq CMD: error: MESSAGE}, and exits with
 * {@link #exitCode()}; the stack trace only with {@code --verbose}. Plugins extend it for their own errors.
 */
public class CommandException extends RuntimeException {

    private final int exitCode;

    public CommandException(String message) {
        this(message, 1, null);
    }

    public CommandException(String message, Throwable cause) {
        this(message, 1, cause);
    }

    protected CommandException(String message, int exitCode, Throwable cause) {
        super(message, cause);
        this.exitCode = exitCode;
    }

    /** 2 for a command line that cannot work ({@link UsageException}), 1 for anything else. */
    public int exitCode() {
        return exitCode;
    }
}
