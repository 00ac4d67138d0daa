package io.flexq.runtime.fuzz;

import io.flexq.runtime.model.ModelFormatException;
import org.junit.jupiter.api.Test;

import java.io.IOException;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The contract the Jazzer runs and the corpus replay check can fail: what it lets pass (accepted, the project's
 * clean errors) and what it hands to the fuzzer as a finding (any other throwable, a clean type with raw controls).
 */
class JazzerContractTest {

    private static JazzerContract contract(FuzzTarget.Reader reader) {
        return new JazzerContract(new FuzzTarget("test", new byte[0], reader));
    }

    @Test
    void acceptedAndCleanErrorsPass() throws IOException {
        try (JazzerContract ok = contract((d, in) -> { });
             JazzerContract clean = contract((d, in) -> {
                 throw new ModelFormatException("m.gguf: tensor 'x' at offset 12 runs past the end");
             });
             JazzerContract io = contract((d, in) -> {
                 throw new IOException("m.gguf: no such file");
             })) {
            assertDoesNotThrow(() -> ok.check(new byte[3]));
            assertDoesNotThrow(() -> clean.check(new byte[3]));
            assertDoesNotThrow(() -> io.check(new byte[3]));
        }
    }

    @Test
    void anyOtherThrowableIsAFinding() throws IOException {
        try (JazzerContract iae = contract((d, in) -> {
                 throw new IllegalArgumentException("length " + in.length);
             });
             JazzerContract oom = contract((d, in) -> {
                 throw new OutOfMemoryError("Java heap space");
             })) {
            assertThrows(IllegalArgumentException.class, () -> iae.check(new byte[3]));
            assertThrows(OutOfMemoryError.class, () -> oom.check(new byte[3]));
        }
    }

    @Test
    void aCleanErrorWithRawTerminalControlsIsAFinding() throws IOException {
        try (JazzerContract raw = contract((d, in) -> {
            throw new IOException("bad \u001b[31m byte");
        })) {
            AssertionError e = assertThrows(AssertionError.class, () -> raw.check(new byte[3]));
            assertTrue(e.getMessage().contains("unprintable"), e.getMessage());
        }
    }

    @Test
    void theLongestReadIsReported() throws Throwable {
        try (JazzerContract slow = contract((d, in) -> Thread.sleep(in.length))) {
            slow.check(new byte[1]);
            slow.check(new byte[30]);
            slow.check(new byte[2]);
            assertTrue(slow.summary().startsWith("flexq-jazzer: 3 inputs, longest read 3") && slow.summary().contains("(30 bytes)"),
                    slow.summary());
        }
    }
}
