package io.flexq.plugin.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;

class AtomicOutputTest {

    @TempDir
    Path dir;

    @Test
    void completeWriteAppearsUnderTheNameAndLeavesNoTemporary() throws Exception {
        Path target = dir.resolve("out.gguf");
        AtomicOutput.write(target, tmp -> Files.writeString(tmp, "complete"));
        assertEquals("complete", Files.readString(target));
        try (var files = Files.list(dir)) {
            assertEquals(1, files.count());
        }
    }

    @Test
    void failedWriteLeavesNoFileAndKeepsAnOldOne() throws Exception {
        Path target = dir.resolve("out.gguf");
        assertThrows(IOException.class, () -> AtomicOutput.write(target, tmp -> {
            Files.writeString(tmp, "half");
            throw new IOException("disk full");
        }));
        assertFalse(Files.exists(target));
        Files.writeString(target, "old");
        assertThrows(IllegalStateException.class, () -> AtomicOutput.write(target, tmp -> {
            Files.writeString(tmp, "half");
            throw new IllegalStateException("bad tensor");
        }));
        assertEquals("old", Files.readString(target));
        try (var files = Files.list(dir)) {
            assertEquals(1, files.count(), "temporary left behind");
        }
    }

    @Test
    void unwritableTargetIsReportedBeforeWork() {
        var e = assertThrows(CliException.class, () -> AtomicOutput.checkWritable(dir.resolve("nope/out.gguf"), "OUT"));
        assertEquals("OUT: directory does not exist: " + dir.resolve("nope"), e.getMessage());
        assertThrows(CliException.class, () -> AtomicOutput.checkWritable(dir, "OUT"));
    }
}
