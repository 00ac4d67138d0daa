package io.flexq.plugin.cli;

/**
 * An error the user can fix (a bad flag, a missing file, an unsupported model): {@link Main} prints its
 * message as one line and exits with {@link #exitCode()}, without a stack trace unless {@code --verbose}.
 */
public class CliException extends RuntimeException {

    private final int exitCode;

    public CliException(String message) {
        this(message, 1, null);
    }

    public CliException(String message, Throwable cause) {
        this(message, 1, cause);
    }

    protected CliException(String message, int exitCode, Throwable cause) {
        super(message, cause);
        this.exitCode = exitCode;
    }

    public int exitCode() {
        return exitCode;
    }

    /** A command line that does not parse: exit status 2, and the message points at {@code --help}. */
    public static final class Usage extends CliException {
        public Usage(String message) {
            super(message, 2, null);
        }
    }
}
