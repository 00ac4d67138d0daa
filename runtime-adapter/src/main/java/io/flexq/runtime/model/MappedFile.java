package io.flexq.runtime.model;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * A file mapped read-only into memory, owned by a shared arena: its segment (and every slice of it)
 * may be read from any thread and becomes inaccessible, not dangling, once {@link #close()} unmaps it.
 * The loaders hand out slices of {@link #segment()} as tensor data, so tensors are zero-copy.
 */
public final class MappedFile implements AutoCloseable {

    private final Path path;
    private final Arena arena;
    private final MemorySegment segment;

    private MappedFile(Path path, Arena arena, MemorySegment segment) {
        this.path = path;
        this.arena = arena;
        this.segment = segment;
    }

    /** Maps the whole file; a missing or unreadable file is a {@link ModelFormatException} naming it. */
    public static MappedFile open(Path path) {
        if (!Files.isRegularFile(path)) {
            throw new ModelFormatException(path + ": no such file (or not a regular file)");
        }
        Arena arena = Arena.ofShared();
        try (FileChannel ch = FileChannel.open(path, StandardOpenOption.READ)) {
            long size = ch.size();
            // an empty file has nothing to map; the loaders report it as truncated
            MemorySegment seg = size == 0 ? MemorySegment.ofArray(new byte[0])
                    : ch.map(FileChannel.MapMode.READ_ONLY, 0, size, arena);
            return new MappedFile(path, arena, seg);
        } catch (IOException e) {
            arena.close();
            throw new UncheckedIOException(path + ": cannot map: " + e.getMessage(), e);
        } catch (RuntimeException | Error e) {
            arena.close();
            throw e;
        }
    }

    public Path path() {
        return path;
    }

    public MemorySegment segment() {
        return segment;
    }

    public long size() {
        return segment.byteSize();
    }

    /** The arena the mapping lives in; loaders may allocate copies (e.g. permuted rows) in it so they share its lifetime. */
    public Arena arena() {
        return arena;
    }

    @Override
    public synchronized void close() {
        if (arena.scope().isAlive()) {
            arena.close();
        }
    }
}
