package io.flexq.plugin.fuzz;

import io.flexq.runtime.model.ModelFormatException;
import io.flexq.runtime.model.Untrusted;
import io.flexq.runtime.spi.TensorTypes;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/** A copy of the runtime test harness of the same name (test classes are not shared between modules).
 *
 * A reader under fuzz: a name, a seed input (bytes of a real file), and what to do with one input (write it where
 * the reader looks, then read it the way a command would). One input has three possible outcomes:
 * accepted (read without error), a clean error (the project's file errors, with a printable message), or other:
 * any other exception, an Error, a message with raw terminal controls, or no answer within {@link #HANG}.
 */
public record FuzzTarget(String name, byte[] seed, Reader reader) {

    /** Writes {@code input} under {@code dir} and reads it. */
    @FunctionalInterface
    public interface Reader {
        void read(Path dir, byte[] input) throws Exception;
    }

    public enum Outcome { ACCEPTED, CLEAN_ERROR, OTHER }

    /** The outcome, how long the read took, and for OTHER what happened. */
    public record Result(Outcome outcome, long nanos, String detail) {
    }

    static final long HANG_SECONDS = 20;

    private static final ExecutorService RUNNER = Executors.newCachedThreadPool(r -> {
        Thread t = new Thread(r, "fuzz-reader");
        t.setDaemon(true);
        return t;
    });

    /** Runs one input on a daemon thread so that a hang is reported instead of hanging the run. */
    public Result run(Path dir, byte[] input) {
        long t0 = System.nanoTime();
        Future<?> f = RUNNER.submit(() -> {
            reader.read(dir, input);
            return null;
        });
        try {
            f.get(HANG_SECONDS, TimeUnit.SECONDS);
            return new Result(Outcome.ACCEPTED, System.nanoTime() - t0, "");
        } catch (TimeoutException e) {
            f.cancel(true);
            return new Result(Outcome.OTHER, System.nanoTime() - t0, "no answer in " + HANG_SECONDS + " s");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        } catch (ExecutionException e) {
            return judge(e.getCause(), System.nanoTime() - t0);
        }
    }

    static Result judge(Throwable t, long nanos) {
        boolean clean = t instanceof ModelFormatException || t instanceof TensorTypes.UnsupportedTensorTypeException
                || t instanceof IOException || t instanceof UncheckedIOException;
        String msg = String.valueOf(t.getMessage());
        if (clean && Untrusted.message(msg).equals(msg)) {
            return new Result(Outcome.CLEAN_ERROR, nanos, "");
        }
        StackTraceElement at = t.getStackTrace().length > 0 ? t.getStackTrace()[0] : null;
        return new Result(Outcome.OTHER, nanos, (clean ? "unprintable message: " : "") + t.getClass().getName() + ": "
                + Untrusted.escape(msg, 160) + (at == null ? "" : " at " + at));
    }
}
