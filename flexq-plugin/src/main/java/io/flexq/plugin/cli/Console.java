package io.flexq.plugin.cli;

import io.flexq.runtime.cli.Cli;

import java.io.OutputStream;
import java.io.PrintStream;

/**
 * Where a command writes: results to {@code out}, progress bars to {@code err}, diagnostics through
 * {@link System.Logger} ({@link #debug}, {@link #info}, {@link #warning}: the flexq command shows them on stderr by
 * level). {@code interactive} says whether err is a terminal (progress bars redraw in place) or a log (progress is
 * printed as a few whole lines); {@code quiet} ({@code --quiet}) hides progress bars.
 */
public record Console(PrintStream out, PrintStream err, boolean interactive, boolean verbose, boolean quiet) {

    private static final System.Logger LOG = System.getLogger("io.flexq.plugin.cli");
    private static final PrintStream NOWHERE = new PrintStream(OutputStream.nullOutputStream());

    public Console(PrintStream out, PrintStream err, boolean interactive, boolean verbose) {
        this(out, err, interactive, verbose, false);
    }

    /** The streams and verbosity of one flexq run. */
    public static Console of(Cli cli) {
        return new Console(cli.out(), cli.err(), cli.interactive(), cli.verbose(), cli.verbosity() == Cli.Verbosity.QUIET);
    }

    public ProgressBar progress(String label, long total) {
        return new ProgressBar(quiet ? NOWHERE : err, label, total, interactive);
    }

    /** A diagnostic line (DEBUG: on stderr with {@code --verbose}). */
    public void debug(String line) {
        LOG.log(System.Logger.Level.DEBUG, line);
    }

    /** A progress or summary line (INFO: on stderr unless {@code --quiet}). */
    public void info(String line) {
        LOG.log(System.Logger.Level.INFO, line);
    }

    /** A warning (on stderr as {@code warning: LINE}, always). */
    public void warning(String line) {
        LOG.log(System.Logger.Level.WARNING, line);
    }
}
