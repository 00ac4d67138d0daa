package io.flexq.runtime.gguf;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;

/**
 * The temporary file an output is written to before it is renamed over the user's name: {@code OUT.tmp-PID-RANDOM}
 * in OUT's folder (so the rename is atomic). Three rules keep such files from piling up or doing harm:
 * <ul>
 * <li>a shutdown hook removes the temporaries of writes still in progress (SIGTERM, SIGINT/Ctrl-C, System.exit);</li>
 * <li>SIGKILL runs no hook, so each write first removes {@code OUT.tmp-PID-*} files whose process is gone;</li>
 * <li>an output path that exists and is not a regular file (a FIFO, a device, a link to one, a folder) is refused,
 *     and the file is created without explicit permissions, so the umask decides them as for any other output.</li>
 * </ul>
 */
final class TemporaryOutput implements AutoCloseable {

    /** Temporaries of writes in progress in this process, for the shutdown hook; shared because the hook is per process. */
    private static final Set<Path> IN_PROGRESS = ConcurrentHashMap.newKeySet();

    static {
        Runtime.getRuntime().addShutdownHook(new Thread(() -> IN_PROGRESS.forEach(p -> {
            try {
                Files.deleteIfExists(p);
            } catch (IOException ignored) {
                // the process is ending; the next write to this output removes it (its pid is dead by then)
            }
        }), "flexq-temporary-output-cleanup"));
    }

    private final Path target;
    private final Path path;
    private boolean committed;

    private TemporaryOutput(Path target, Path path) {
        this.target = target;
        this.path = path;
    }

    /** Checks the target, removes stale temporaries of dead processes, and creates a fresh empty temporary. */
    static TemporaryOutput create(Path out) throws IOException {
        Path target = out.toAbsolutePath();
        if (Files.exists(target) && !Files.isRegularFile(target)) {
            throw new IOException(target + ": exists and is not a regular file (a FIFO, device or folder?); refusing to replace it");
        }
        Path dir = target.getParent();
        String prefix = target.getFileName() + ".tmp-";
        removeStale(dir, prefix);
        long pid = ProcessHandle.current().pid();
        for (int attempt = 0; ; attempt++) {
            Path tmp = dir.resolve(prefix + pid + "-" + Long.toUnsignedString(ThreadLocalRandom.current().nextLong(), 36));
            try {
                // no file attributes: the umask decides the permissions, as for any file the user creates
                FileChannel.open(tmp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE).close();
                IN_PROGRESS.add(tmp);
                return new TemporaryOutput(target, tmp);
            } catch (java.nio.file.FileAlreadyExistsException e) {
                if (attempt > 8) {
                    throw e;
                }
            }
        }
    }

    /** {@code PREFIX<pid>-<random>} files whose pid is no live process. */
    private static void removeStale(Path dir, String prefix) throws IOException {
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir, p -> p.getFileName().toString().startsWith(prefix))) {
            for (Path p : ds) {
                Optional<Long> pid = pidOf(p.getFileName().toString().substring(prefix.length()));
                if (pid.isPresent() && ProcessHandle.of(pid.get()).map(ProcessHandle::isAlive).orElse(false) == false
                        && Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS)) {
                    Files.deleteIfExists(p);
                }
            }
        }
    }

    private static Optional<Long> pidOf(String rest) {
        int dash = rest.indexOf('-');
        if (dash <= 0) {
            return Optional.empty(); // not our naming (e.g. an older version's OUT.tmp-RANDOM): leave it
        }
        try {
            return Optional.of(Long.parseLong(rest.substring(0, dash)));
        } catch (NumberFormatException e) {
            return Optional.empty();
        }
    }

    Path path() {
        return path;
    }

    /** Renames the finished temporary over the target. */
    void commit() throws IOException {
        if (Files.exists(target) && !Files.isRegularFile(target)) {
            throw new IOException(target + ": became a non-regular file while it was written; refusing to replace it");
        }
        Files.move(path, target, java.nio.file.StandardCopyOption.ATOMIC_MOVE, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        committed = true;
        IN_PROGRESS.remove(path);
    }

    /** Removes the temporary unless it was committed. */
    @Override
    public void close() throws IOException {
        try {
            if (!committed) {
                Files.deleteIfExists(path);
            }
        } finally {
            IN_PROGRESS.remove(path);
        }
    }
}
