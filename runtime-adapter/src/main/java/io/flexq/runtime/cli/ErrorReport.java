package io.flexq.runtime.cli;

import io.flexq.runtime.llama.ContextLengthException;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.NoSuchFileException;

/**
 * What a command's exception becomes: one line for stderr and an exit status. Errors the user can act on (a
 * {@link CommandException}, a bad or missing file, a model the runtime cannot run, a request past the context) are
 * {@code error: MESSAGE}; a failure that can only be a bug (a null pointer, an index out of bounds, an illegal
 * state, any {@link Error} but running out of memory) is {@code internal error: ...} with a hint to rerun with
 * {@code --verbose} for the stack trace.
 */
record ErrorReport(String line, int status) {

    static ErrorReport of(Throwable t, boolean verbose) {
        return switch (t) {
            case CommandException c -> new ErrorReport("error: " + message(c), c.exitCode());
            case ContextLengthException c -> new ErrorReport("error: " + message(c), 1);
            case NoSuchFileException n -> new ErrorReport("error: no such file: " + n.getFile(), 1);
            case AccessDeniedException a -> new ErrorReport("error: permission denied: " + a.getFile(), 1);
            case IOException io -> new ErrorReport("error: " + io.getClass().getSimpleName() + ": " + message(io), 1);
            case UncheckedIOException io when io.getCause() instanceof NoSuchFileException n ->
                    new ErrorReport("error: " + (io.getMessage() != null && io.getMessage().contains(n.getFile())
                            ? io.getMessage() : "no such file: " + n.getFile()), 1);
            case UncheckedIOException io -> new ErrorReport("error: " + message(io), 1);
            case OutOfMemoryError oom -> new ErrorReport("error: out of memory (" + oom.getMessage()
                    + "); give the JVM more with JAVA_OPTS=-Xmx...", 1);
            case NullPointerException _, IndexOutOfBoundsException _, IllegalStateException _, ClassCastException _,
                 ArithmeticException _, UnsupportedOperationException _, Error _ -> internal(t, verbose);
            case RuntimeException r when r.getMessage() != null -> new ErrorReport("error: " + message(r), 1);
            default -> internal(t, verbose);
        };
    }

    private static ErrorReport internal(Throwable t, boolean verbose) {
        return new ErrorReport("internal error: " + t + (verbose ? "" : " (rerun with --verbose for the stack trace)"), 1);
    }

    /** Messages can carry newlines (a wrapped cause); the contract is one line. */
    private static String message(Throwable t) {
        String m = t.getMessage() == null ? t.getClass().getSimpleName() : t.getMessage();
        return m.replace("\r", "").replace('\n', ' ');
    }
}
