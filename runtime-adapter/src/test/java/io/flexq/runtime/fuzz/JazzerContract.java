package io.flexq.runtime.fuzz;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The reader contract as a coverage-guided fuzzer (Jazzer) checks it: one input is read on the fuzzer's own thread
 * (so the hang check is the fuzzer's per-input timeout, and an OutOfMemoryError reaches it); being accepted or
 * ending in a clean error ({@link FuzzTarget#judge}) returns, anything else is thrown to the fuzzer as a finding.
 * The same check replays saved inputs in the normal build ({@link JazzerCorpusTest}). Its scratch folder is under
 * java.io.tmpdir, which the fuzz script points into target-fuzz/.
 */
public final class JazzerContract implements AutoCloseable {

    private final FuzzTarget target;
    private final Path dir;
    private long inputs;
    private long slowestNanos;
    private int slowestBytes;
    private long slowestWarmNanos;
    private int slowestWarmBytes;
    private byte[] slowestWarmInput;

    /** Inputs read before the JIT has compiled the reader; the slowest read after them is reported on its own. */
    static final int WARM_UP = 1000;

    public JazzerContract(FuzzTarget target) {
        this.target = target;
        try {
            this.dir = Files.createTempDirectory("flexq-jazzer");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public FuzzTarget target() {
        return target;
    }

    /** Removes the scratch folder (the fuzz runs leave it: they end by exiting, under target-fuzz/). */
    @Override
    public void close() throws IOException {
        FuzzStats.deleteTree(dir);
    }

    /**
     * One line for the fuzz script's table: inputs checked here and the longest read, with its size (libFuzzer
     * reports its slowest input in whole seconds only).
     */
    public synchronized String summary() {
        return String.format(java.util.Locale.ROOT, "flexq-jazzer: %d inputs, longest read %.1f ms (%d bytes), after the first %d: %.1f ms (%d bytes)",
                inputs, slowestNanos / 1e6, slowestBytes, WARM_UP, slowestWarmNanos / 1e6, slowestWarmBytes);
    }

    /**
     * Saves the slowest input read after the warm-up as {@code slowest-NAME.bin} in {@code dir} (the name
     * {@link SlowestInputs} times again alone), if there was one.
     */
    public synchronized void saveSlowest(Path dir) throws IOException {
        if (slowestWarmInput != null) {
            Files.createDirectories(dir);
            Files.write(dir.resolve("slowest-" + target.name().replaceAll("[^A-Za-z0-9]+", "_") + ".bin"), slowestWarmInput);
        }
    }

    /** Reads one input; returns if the reader kept its contract, else throws what broke it. */
    public void check(byte[] input) throws Throwable {
        long t0 = System.nanoTime();
        try {
            read(input);
        } finally {
            long took = System.nanoTime() - t0;
            synchronized (this) {
                inputs++;
                if (took > slowestNanos) {
                    slowestNanos = took;
                    slowestBytes = input.length;
                }
                if (inputs > WARM_UP && took > slowestWarmNanos) {
                    slowestWarmNanos = took;
                    slowestWarmBytes = input.length;
                    slowestWarmInput = input.clone();
                }
            }
        }
    }

    private void read(byte[] input) throws Throwable {
        try {
            target.reader().read(dir, input);
        } catch (Throwable t) {
            FuzzTarget.Result r = FuzzTarget.judge(t, 0);
            if (r.outcome() == FuzzTarget.Outcome.CLEAN_ERROR) {
                return;
            }
            if (r.detail().startsWith("unprintable")) {
                // a clean error type whose message would reach the terminal raw: say so in the finding
                throw new AssertionError(target.name() + ": " + r.detail(), t);
            }
            throw t;
        }
    }
}
