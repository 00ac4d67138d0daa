package io.flexq.plugin.cli;

import io.flexq.runtime.gguf.GgufFile;
import io.flexq.runtime.model.SharedData;
import io.flexq.runtime.model.TensorEntry;
import io.flexq.runtime.tensor.BuiltinTypes;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Issue 11, finding 7: {@code eval} reported a corrupt FQ6 file as "internal error: IllegalArgumentException" (the
 * backend's check of the padding codes). A bad file is the user's problem to fix, so it must be one error line
 * naming the file and the tensor.
 */
class EvalBadFileTest {

    @TempDir
    Path dir;

    @Test
    void aCorruptFq6TensorIsABadFileNotAnInternalError() throws Exception {
        Path src = SharedData.require("models/stories260K-f32.gguf");
        Path fq6 = dir.resolve("s.gguf");
        CliRun q = CliRun.of("quantize", src.toString(), fq6.toString(), "--preset", "a8");
        assertEquals(0, q.status(), q.err());
        byte[] bytes = Files.readAllBytes(fq6);
        byte[] firstGroup;
        try (GgufFile g = GgufFile.open(fq6, BuiltinTypes.registry(getClass().getClassLoader()))) {
            TensorEntry t = g.tensor("blk.0.attn_q.weight");
            firstGroup = t.data().asSlice(0, 96).toArray(ValueLayout.JAVA_BYTE);
        }
        int at = indexOf(bytes, firstGroup);
        assertTrue(at > 0);
        // 64 columns in a 128-group: the last 48 of the group's 96 code bytes hold padding codes, which must be 0
        bytes[at + 95] = (byte) 0xFF;
        Path bad = Files.write(dir.resolve("bad.gguf"), bytes);
        Path text = Files.writeString(dir.resolve("t.txt"), CliRun.story(), StandardCharsets.UTF_8);
        CliRun r = CliRun.of("eval", bad.toString(), "--text", text.toString(), "--ctx", "16", "--windows", "1");
        assertEquals(1, r.status(), r.err());
        assertFalse(r.err().contains("internal error"), r.err());
        assertTrue(r.err().contains(bad.toString()) && r.err().contains("blk.0.attn_q.weight"), r.err());
    }

    private static int indexOf(byte[] hay, byte[] needle) {
        for (int i = 0; i + needle.length <= hay.length; i++) {
            if (Arrays.equals(hay, i, i + needle.length, needle, 0, needle.length)) {
                return i;
            }
        }
        return -1;
    }
}
