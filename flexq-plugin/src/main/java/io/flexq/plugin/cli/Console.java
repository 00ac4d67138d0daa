package io.flexq.plugin.cli;

import io.flexq.runtime.cli.Cli;

import java.io.PrintStream;

/**
 * Where a command writes: results to {@code out}, progress and diagnostics to {@code err}.
 * {@code interactive} says whether err is a terminal (progress bars redraw in place) or a log
 * (progress is printed as a few whole lines).
 */
public record Console(PrintStream out, PrintStream err, boolean interactive, boolean verbose) {

    public ProgressBar progress(String label, long total) {
        return new ProgressBar(err, label, total, interactive);
    }

    private static final System.Logger LOG = System.getLogger("io.flexq.plugin.cli");

    /** The streams and verbosity of one flexq run. */
    public static Console of(Cli cli) {
        return new Console(cli.out(), cli.err(), cli.interactive(), cli.verbose());
    }

    /** A diagnostic line (System.Logger DEBUG: on stderr with {@code --verbose}). */
    public void debug(String line) {
        LOG.log(System.Logger.Level.DEBUG, line);
    }
}
