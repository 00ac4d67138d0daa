package io.flexq.plugin.cli;

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

    /** A diagnostic line on stderr, shown only with {@code --verbose}. */
    public void debug(String line) {
        if (verbose) {
            err.println(line);
        }
    }
}
