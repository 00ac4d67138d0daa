package io.flexq.plugin.cli;

import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ProgressBarTest {

    @Test
    void logModePrintsAboutOneLinePerTenthAndEndsAtFull() {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (ProgressBar bar = new ProgressBar(new PrintStream(bytes, true, StandardCharsets.UTF_8), "quantize", 56, false)) {
            for (int i = 0; i < 56; i++) bar.advance(1, "t" + i);
        }
        String text = bytes.toString(StandardCharsets.UTF_8);
        long lines = text.lines().count();
        assertTrue(lines >= 10 && lines <= 11, text);
        assertTrue(text.lines().reduce((a, b) -> b).orElseThrow().contains("100%  56/56"), text);
        assertTrue(!text.contains("\r"));
    }

    @Test
    void terminalModeRedrawsInPlace() {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (ProgressBar bar = new ProgressBar(new PrintStream(bytes, true, StandardCharsets.UTF_8), "eval", 4, true)) {
            for (int i = 0; i < 4; i++) bar.advance(1, null);
        }
        String text = bytes.toString(StandardCharsets.UTF_8);
        assertTrue(text.startsWith("\reval ["), text);
        assertEquals(1, text.chars().filter(c -> c == '\n').count());
        assertTrue(text.contains("[##############################] 100%  4/4"), text);
    }
}
