package io.flexq.plugin.cli;

import io.flexq.plugin.fq6.SyntheticLlama;
import io.flexq.runtime.gguf.GgufFile;
import io.flexq.runtime.gguf.GgufType;
import io.flexq.runtime.gguf.GgufWriter;
import io.flexq.runtime.tensor.BuiltinTypes;
import io.flexq.runtime.tensor.FloatTypes;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Issue 11, finding 6: {@code inspect} printed metadata strings, keys and tensor names raw: ESC/BEL bytes drove the
 * terminal and a 49 KB value filled it. Every printed line must be free of terminal controls and bounded.
 */
class InspectUntrustedTest {

    @TempDir
    Path dir;

    @Test
    void inspectEscapesAndTruncatesFileStrings() throws Exception {
        Path src = new SyntheticLlama(64, 64, 1, 4, 2, 32, 9).write(dir.resolve("src.gguf"), FloatTypes.F32);
        String evil = "\u001b[31mred\u0007\u001b]0;pwned\u0007\u009b2J\u202E" + "\u0001x".repeat(25_000);
        Path out = dir.resolve("evil.gguf");
        try (GgufFile g = GgufFile.open(src, BuiltinTypes.registry(getClass().getClassLoader()))) {
            GgufWriter w = new GgufWriter().putAll(g);
            w.put("general.name", GgufType.STRING, evil);
            w.put("evil." + evil, GgufType.UINT32, 1L);
            w.put("evil.array", GgufType.STRING, new String[] {evil, "ok"});
            g.tensors().values().forEach(w::addTensor);
            w.write(out);
        }
        CliRun r = CliRun.of("inspect", out.toString());
        assertEquals(0, r.status(), r.err());
        for (String line : r.out().split("\n")) {
            assertTrue(line.length() < 1000, "line of " + line.length() + " chars");
            for (char c : line.toCharArray()) {
                boolean control = c < 0x20 || c == 0x7F || (c >= 0x80 && c <= 0x9F) || c == 0x202E;
                assertTrue(!control, String.format("raw U+%04X in: %.120s", (int) c, line));
            }
        }
        assertTrue(r.out().contains("\\u001b[31mred\\u0007"), "the value is still shown, escaped");
    }
}
