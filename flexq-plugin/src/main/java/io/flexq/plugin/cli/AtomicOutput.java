package io.flexq.plugin.cli;

import java.io.IOException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

/**
 * Writes an output file under a temporary name beside it and renames it onto the user's name only when
 * complete, so a failure (bad input half way, disk full, Ctrl-C) never leaves a half-written file under
 * that name. The temporary name is {@code .NAME.part-PID}, in the same directory so the rename is atomic.
 */
public final class AtomicOutput {

    private AtomicOutput() {
    }

    /** Writes a file given a path to write to. */
    @FunctionalInterface
    public interface Writer {
        void write(Path temporary) throws Exception;
    }

    /** Checks early that {@code target} can be created (its directory exists and is writable), naming the flag or argument. */
    public static void checkWritable(Path target, String what) {
        Path dir = target.toAbsolutePath().getParent();
        if (dir == null || !Files.isDirectory(dir)) {
            throw new CliException(what + ": directory does not exist: " + (dir == null ? target : dir));
        }
        if (!Files.isWritable(dir)) {
            throw new CliException(what + ": directory is not writable: " + dir);
        }
        if (Files.isDirectory(target)) {
            throw new CliException(what + ": is a directory: " + target);
        }
    }

    public static Path temporaryFor(Path target) {
        Path abs = target.toAbsolutePath();
        return abs.resolveSibling("." + abs.getFileName() + ".part-" + ProcessHandle.current().pid());
    }

    /** Runs {@code writer} on the temporary path, then renames it to {@code target}; on failure deletes it and rethrows. */
    public static void write(Path target, Writer writer) throws Exception {
        Path tmp = temporaryFor(target);
        boolean ok = false;
        try {
            Files.deleteIfExists(tmp);
            writer.write(tmp);
            if (!Files.isRegularFile(tmp)) {
                throw new IOException("writer produced no file at " + tmp);
            }
            try {
                Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING);
            }
            ok = true;
        } finally {
            if (!ok) {
                try {
                    Files.deleteIfExists(tmp);
                } catch (IOException suppressed) {
                    // the original failure matters more; the temporary is hidden and named after the pid
                }
            }
        }
    }
}
