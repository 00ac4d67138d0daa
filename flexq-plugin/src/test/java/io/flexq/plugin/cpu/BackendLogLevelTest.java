package io.flexq.plugin.cpu;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Issue 11, finding 7: without --verbose, java.util.logging's default console handler printed two-line INFO
 * messages (date + class, then level + text) from the FQ6 backend found by ServiceLoader. Its diagnostics are
 * debug-level: below the INFO threshold of the default logging configuration, shown when a caller asks.
 */
class BackendLogLevelTest {

    @Test
    void theDiscoveredBackendLogsDiagnosticsBelowInfo() {
        Logger jul = Logger.getLogger("io.flexq.plugin.cpu");
        List<LogRecord> records = new ArrayList<>();
        Handler h = new Handler() {
            @Override public void publish(LogRecord r) { records.add(r); }
            @Override public void flush() { }
            @Override public void close() { }
        };
        Level before = jul.getLevel();
        jul.setLevel(Level.ALL);
        jul.addHandler(h);
        try {
            FlexqCpuBackend backend = new FlexqCpuBackend();
            backend.activationMode("blk.0.attn_q.weight", Map.of()); // logs "no metadata key ..., running W6A8"
        } finally {
            jul.removeHandler(h);
            jul.setLevel(before);
        }
        assertFalse(records.isEmpty(), "the diagnostic is still logged");
        for (LogRecord r : records) {
            assertTrue(r.getLevel().intValue() < Level.INFO.intValue(), r.getLevel() + " " + r.getMessage());
        }
    }
}
