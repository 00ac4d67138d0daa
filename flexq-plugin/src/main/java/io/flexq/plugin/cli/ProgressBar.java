package io.flexq.plugin.cli;

import java.io.PrintStream;
import java.util.Locale;

/**
 * A progress bar on stderr: {@code label [#########.........]  47%  26/56  blk.3.ffn_up.weight  12s}.
 *
 * <p>On a terminal it redraws in place with a carriage return, at most every 100 ms or when the
 * percentage changes; in a log (stderr not a terminal) it prints one line per 10% so logs stay short.
 * {@link #close()} ends the line.
 */
public final class ProgressBar implements AutoCloseable {

    private static final int WIDTH = 30;

    private final PrintStream err;
    private final String label;
    private final long total;
    private final boolean interactive;
    private final long startNanos = System.nanoTime();
    private long done;
    private long lastDrawNanos;
    private int lastPercent = -1;
    private int lastDecile = -1;
    private int lastLength;
    private boolean closed;

    public ProgressBar(PrintStream err, String label, long total, boolean interactive) {
        this.err = err;
        this.label = label;
        this.total = Math.max(total, 1);
        this.interactive = interactive;
    }

    /** Adds {@code n} units of work done; {@code detail} (e.g. the tensor name) is shown after the count. */
    public void advance(long n, String detail) {
        done = Math.min(total, done + n);
        draw(detail, false);
    }

    public void set(long doneSoFar, String detail) {
        done = Math.min(total, Math.max(0, doneSoFar));
        draw(detail, false);
    }

    private void draw(String detail, boolean force) {
        int percent = (int) (100 * done / total);
        long now = System.nanoTime();
        if (interactive) {
            if (!force && percent == lastPercent && now - lastDrawNanos < 100_000_000L) {
                return;
            }
            String line = render(percent, detail);
            // pad with spaces so a shorter line fully covers the previous one
            String pad = " ".repeat(Math.max(0, lastLength - line.length()));
            err.print("\r" + line + pad);
            err.flush();
            lastLength = line.length();
        } else {
            int decile = percent / 10;
            if (!force && decile == lastDecile) {
                return;
            }
            err.println(render(percent, detail));
            lastDecile = decile;
        }
        lastPercent = percent;
        lastDrawNanos = now;
    }

    String render(int percent, String detail) {
        int filled = (int) (WIDTH * done / total);
        long seconds = (System.nanoTime() - startNanos) / 1_000_000_000L;
        return String.format(Locale.ROOT, "%s [%s%s] %3d%%  %d/%d%s  %ds", label, "#".repeat(filled),
                ".".repeat(WIDTH - filled), percent, done, total, detail == null || detail.isEmpty() ? "" : "  " + detail, seconds);
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        if (interactive) {
            draw(null, true);
            err.println();
        } else if (lastDecile != (int) (100 * done / total) / 10) {
            draw(null, true);
        }
        err.flush();
    }
}
