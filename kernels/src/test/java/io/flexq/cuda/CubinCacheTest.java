package io.flexq.cuda;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Issue 11, finding 7: cached CUDA cubins were loaded without checking a hash, and the cache key left out the NVRTC
 * options. A cache entry is now keyed by a hash of source + options + arch + NVRTC version and carries the SHA-256
 * of its cubin, checked on every load: a corrupted or substituted entry is a miss (and is recompiled), not a load.
 * No GPU needed: this is the cache alone.
 */
class CubinCacheTest {

    @TempDir
    Path dir;

    private static final byte[] SOURCE = "extern \"C\" __global__ void k() {}".getBytes(StandardCharsets.UTF_8);
    private static final List<String> OPTIONS = List.of("--gpu-architecture=sm_90a", "--std=c++17");
    private static final byte[] CUBIN = "\u007fELF fake cubin bytes".getBytes(StandardCharsets.ISO_8859_1);

    private CubinCache cache() {
        return new CubinCache(dir, SOURCE, OPTIONS, "sm_90a", "12.4");
    }

    private Path onlyEntry() throws Exception {
        try (Stream<Path> s = Files.list(dir)) {
            List<Path> l = s.toList();
            assertEquals(1, l.size(), l.toString());
            return l.getFirst();
        }
    }

    @Test
    void aStoredCubinComesBackIntact() throws Exception {
        assertEquals(Optional.empty(), cache().read());
        cache().write(CUBIN);
        assertArrayEquals(CUBIN, cache().read().orElseThrow());
    }

    @Test
    void theKeyCoversSourceOptionsArchAndCompiler() {
        String k = cache().key();
        assertNotEquals(k, new CubinCache(dir, "other".getBytes(), OPTIONS, "sm_90a", "12.4").key());
        assertNotEquals(k, new CubinCache(dir, SOURCE, List.of("--gpu-architecture=sm_90a", "--std=c++20"), "sm_90a", "12.4").key());
        assertNotEquals(k, new CubinCache(dir, SOURCE, OPTIONS, "sm_89", "12.4").key());
        assertNotEquals(k, new CubinCache(dir, SOURCE, OPTIONS, "sm_90a", "12.6").key());
        // options are not just concatenated: ["a b"] and ["a", "b"] differ
        assertNotEquals(new CubinCache(dir, SOURCE, List.of("a b"), "x", "1").key(), new CubinCache(dir, SOURCE, List.of("a", "b"), "x", "1").key());
    }

    @Test
    void aCorruptedOrReplacedEntryIsAMiss() throws Exception {
        cache().write(CUBIN);
        Path entry = onlyEntry();
        byte[] stored = Files.readAllBytes(entry);
        stored[stored.length - 1] ^= 1; // one flipped bit in the cubin
        Files.write(entry, stored);
        assertEquals(Optional.empty(), cache().read());
        Files.write(entry, CUBIN); // a bare cubin (no hash) dropped in under the right name
        assertEquals(Optional.empty(), cache().read());
        Files.write(entry, new byte[0]);
        assertEquals(Optional.empty(), cache().read());
        cache().write(CUBIN); // the recompile replaces it
        assertArrayEquals(CUBIN, cache().read().orElseThrow());
        assertTrue(Files.isRegularFile(onlyEntry()));
    }
}
