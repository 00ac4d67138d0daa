package io.flexq.runtime.cli;

import java.io.InputStream;
import java.io.PrintStream;
import java.util.function.Consumer;

/**
 * What one run of {@code flexq} gives its commands: the streams (results on {@code out}, everything else on
 * {@code err}), whether stderr is a terminal, and the verbosity of {@code --verbose} / {@code --quiet}, known once
 * the command line is parsed. Diagnostics go through {@link System.Logger} (logger names under {@code io.flexq});
 * {@link Main} shows them on {@code err} by level: DEBUG and TRACE with {@code --verbose}, INFO unless
 * {@code --quiet}, WARNING and ERROR always.
 */
public final class Cli {

    public enum Verbosity { QUIET, NORMAL, VERBOSE }

    private static final System.Logger LOG = System.getLogger("io.flexq.cli");

    private final InputStream in;
    private final PrintStream out;
    private final PrintStream err;
    private final boolean interactive;
    private volatile Verbosity verbosity = Verbosity.NORMAL;

    public Cli(InputStream in, PrintStream out, PrintStream err, boolean interactive) {
        this.in = in;
        this.out = out;
        this.err = err;
        this.interactive = interactive;
    }

    public InputStream in() {
        return in;
    }

    public PrintStream out() {
        return out;
    }

    public PrintStream err() {
        return err;
    }

    /** Whether stderr is a terminal (progress bars redraw in place) rather than a log. */
    public boolean interactive() {
        return interactive;
    }

    public Verbosity verbosity() {
        return verbosity;
    }

    public boolean verbose() {
        return verbosity == Verbosity.VERBOSE;
    }

    void verbosity(Verbosity v) {
        verbosity = v;
    }

    /**
     * For the runtime's {@code Consumer<String>} log parameters ({@code Llama.load}, {@code Backends}): each line at
     * DEBUG (shown with --verbose), except the runtime's warnings, which that API marks with a leading
     * {@code "warning: "}: those become WARNING records. This is the one place a prefix is read.
     */
    public Consumer<String> diagnostics() {
        return line -> {
            if (line.startsWith(WARNING_MARK)) {
                LOG.log(System.Logger.Level.WARNING, line.substring(WARNING_MARK.length()));
            } else {
                LOG.log(System.Logger.Level.DEBUG, line);
            }
        };
    }

    private static final String WARNING_MARK = "warning: ";

    /** A result worth one stderr line after a run (e.g. the backends summary): INFO, hidden by --quiet. */
    public void info(String line) {
        LOG.log(System.Logger.Level.INFO, line);
    }

    /** A warning: always shown, as {@code warning: LINE}. */
    public void warning(String line) {
        LOG.log(System.Logger.Level.WARNING, line);
    }
}
