package io.flexq.runtime.fuzz;

import io.flexq.runtime.model.ModelFormatException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.opentest4j.AssertionFailedError;

import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The fuzz check can fail: a reader that lets an IllegalArgumentException escape, or prints ESC, is caught and shrunk. */
class FuzzCheckSelfTest {

    @TempDir
    Path dir;

    private static final byte[] SEED = new byte[64];

    @Test
    void anUncleanExceptionIsFoundAndReportedWithItsSeed() {
        FuzzTarget buggy = new FuzzTarget("buggy", SEED, (d, in) -> {
            if (in.length != SEED.length) throw new IllegalArgumentException("length " + in.length);
        });
        var e = assertThrows(AssertionFailedError.class, () -> FuzzCheck.check(buggy, 50, 7, dir));
        assertTrue(e.getMessage().contains("seed 7") && e.getMessage().contains("IllegalArgumentException"), e.getMessage());
    }

    @Test
    void aCleanErrorWithTerminalControlsIsNotClean() {
        FuzzTarget raw = new FuzzTarget("raw", SEED, (d, in) -> {
            throw new java.io.IOException("bad \u001b[31m byte");
        });
        assertThrows(AssertionFailedError.class, () -> FuzzCheck.check(raw, 5, 8, dir));
        FuzzTarget clean = new FuzzTarget("clean", SEED, (d, in) -> {
            throw new ModelFormatException("bad \u001b[31m byte"); // escaped by the exception itself
        });
        assertDoesNotThrow(() -> FuzzCheck.check(clean, 5, 9, dir));
    }
}
