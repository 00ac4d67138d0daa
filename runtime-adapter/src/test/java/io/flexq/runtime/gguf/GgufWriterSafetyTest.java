package io.flexq.runtime.gguf;

import io.flexq.runtime.tensor.FloatTypes;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Issue 11, finding 4: a write killed by Ctrl-C, SIGTERM or SIGKILL left {@code OUT.tmp-*} files nothing removed;
 * outputs were created 0600 instead of as the umask says; an output path that is a FIFO or a device was replaced
 * by a regular file. Now: a temporary file is removed by a shutdown hook (SIGTERM, Ctrl-C), and the next write to
 * the same output removes those of dead processes (SIGKILL); the output's permissions are those of any file this
 * process creates; a non-regular output is refused and left as it is.
 */
@Timeout(120)
class GgufWriterSafetyTest {

    @TempDir
    Path dir;

    private static GgufWriter small() {
        return new GgufWriter().put("general.name", "x").addTensor("t", FloatTypes.F32, new long[] {4},
                MemorySegment.ofArray(new byte[16]));
    }

    private List<Path> temporaries(String name) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.filter(p -> p.getFileName().toString().startsWith(name + ".tmp-")).toList();
        }
    }

    private Process slowWriter(Path out) throws IOException {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Process p = new ProcessBuilder(java, "-cp", System.getProperty("java.class.path"), SlowGgufWrite.class.getName(), out.toString())
                .redirectErrorStream(true).start();
        String line = new BufferedReader(new InputStreamReader(p.getInputStream())).readLine();
        assertEquals("writing", line, "the child should be inside the write");
        return p;
    }

    @Test
    void sigtermRemovesTheTemporaryFile() throws Exception {
        Path out = dir.resolve("term.gguf");
        Process p = slowWriter(out);
        assertEquals(1, temporaries("term.gguf").size(), "the write in progress has its temporary");
        p.destroy(); // SIGTERM: what Ctrl-C's SIGINT also does, through the same shutdown hooks
        assertTrue(p.waitFor(30, TimeUnit.SECONDS));
        assertEquals(List.of(), temporaries("term.gguf"));
        assertFalse(Files.exists(out));
    }

    @Test
    void theNextWriteRemovesTemporariesOfKilledProcesses() throws Exception {
        Path out = dir.resolve("kill.gguf");
        Process p = slowWriter(out);
        p.destroyForcibly(); // SIGKILL: no hook runs
        assertTrue(p.waitFor(30, TimeUnit.SECONDS));
        assertEquals(1, temporaries("kill.gguf").size(), "SIGKILL leaves the temporary");
        // a temporary of a live process (this one) is someone's write in progress: kept
        Path live = Files.createFile(dir.resolve("kill.gguf.tmp-" + ProcessHandle.current().pid() + "-1"));
        small().write(out);
        assertEquals(List.of(live), temporaries("kill.gguf"));
        assertTrue(Files.size(out) > 0);
    }

    @Test
    void outputPermissionsFollowTheUmask() throws Exception {
        Path probe = Files.createFile(dir.resolve("probe")); // what the umask gives any new file of this process
        Set<PosixFilePermission> expected = Files.getPosixFilePermissions(probe);
        Path out = dir.resolve("perm.gguf");
        small().write(out);
        assertEquals(expected, Files.getPosixFilePermissions(out));
    }

    @Test
    void fifoOrDeviceOutputsAreRefusedAndLeftAlone() throws Exception {
        Path fifo = dir.resolve("fifo.gguf");
        assertEquals(0, new ProcessBuilder("mkfifo", fifo.toString()).start().waitFor());
        var e = assertThrows(IOException.class, () -> small().write(fifo));
        assertTrue(e.getMessage().contains(fifo.toString()) && e.getMessage().contains("not a regular file"), e.getMessage());
        assertTrue(Files.exists(fifo, LinkOption.NOFOLLOW_LINKS) && !Files.isRegularFile(fifo));
        Path link = Files.createSymbolicLink(dir.resolve("null.gguf"), Path.of("/dev/null"));
        assertThrows(IOException.class, () -> small().write(link));
        assertTrue(Files.isSymbolicLink(link));
        assertEquals(List.of(), temporaries("fifo.gguf"));
        assertEquals(List.of(), temporaries("null.gguf"));
    }
}
