package io.flexq.runtime.cli;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Issue 11, finding 7: {@code bench --threads 100000} ended in a bare IllegalArgumentException from ForkJoinPool. */
class ThreadsFlagTest {

    @Test
    void anAbsurdThreadCountIsAUsageErrorNamingTheFlag() {
        for (String n : new String[] {"100000", "32768", "0", "-3"}) {
            MainTest.Outcome o = MainTest.run("bench", "--synthetic", "tiny", "--type", "Q8_0", "--threads", n,
                    "--prompt-tokens", "4", "--decode-tokens", "2", "--runs", "1");
            assertEquals(2, o.status(), n + ": " + o.err());
            assertTrue(o.err().contains("--threads"), o.err());
            assertFalse(o.err().contains("IllegalArgumentException"), o.err());
        }
    }
}
