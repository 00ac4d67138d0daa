package io.flexq.runtime.cli;

import java.io.PrintStream;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

/**
 * Shows the {@link System.Logger} records of the {@code io.flexq} loggers on one run's stderr, one line each:
 * {@code warning: ...} / {@code error: ...} for those levels, the bare message otherwise. {@link System.Logger}
 * is backed by {@code java.util.logging} in the JDK, so this configures the {@code io.flexq} logger there for the
 * run and puts it back as it was on {@link #close()}.
 */
final class Logging implements AutoCloseable {

    private final Logger logger = Logger.getLogger("io.flexq"); // held: JUL keeps loggers weakly
    private final Level previousLevel = logger.getLevel();
    private final boolean previousUseParent = logger.getUseParentHandlers();
    private final StderrHandler handler;

    private Logging(PrintStream err) {
        handler = new StderrHandler(err);
        logger.addHandler(handler);
        logger.setUseParentHandlers(false);
        verbosity(Cli.Verbosity.NORMAL);
    }

    static Logging install(PrintStream err) {
        return new Logging(err);
    }

    /** QUIET: warnings and errors; NORMAL: and INFO; VERBOSE: everything. */
    void verbosity(Cli.Verbosity v) {
        logger.setLevel(switch (v) {
            case QUIET -> Level.WARNING;
            case NORMAL -> Level.INFO;
            case VERBOSE -> Level.ALL;
        });
        handler.traces = v == Cli.Verbosity.VERBOSE;
    }

    @Override
    public void close() {
        logger.removeHandler(handler);
        logger.setLevel(previousLevel);
        logger.setUseParentHandlers(previousUseParent);
    }

    private static final class StderrHandler extends Handler {
        private final PrintStream err;
        volatile boolean traces;

        StderrHandler(PrintStream err) {
            this.err = err;
            setLevel(Level.ALL);
        }

        @Override
        public void publish(LogRecord r) {
            int level = r.getLevel().intValue();
            String prefix = level >= Level.SEVERE.intValue() ? "error: " : level >= Level.WARNING.intValue() ? "warning: " : "";
            String message = r.getMessage();
            if (r.getParameters() != null && r.getParameters().length > 0 && message != null) {
                message = java.text.MessageFormat.format(message, r.getParameters());
            }
            synchronized (err) {
                err.println(prefix + message);
                if (traces && r.getThrown() != null) {
                    r.getThrown().printStackTrace(err);
                }
            }
        }

        @Override
        public void flush() {
            err.flush();
        }

        @Override
        public void close() {
            flush();
        }
    }
}
