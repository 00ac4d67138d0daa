package io.flexq.plugin.cli;

import io.flexq.plugin.fq6.Fq6File;
import io.flexq.plugin.fq6.Fq6Keys;
import io.flexq.runtime.tensor.BuiltinTypes;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code --gptq} of flexq quantize and flexq quality, end to end on the bundled stories260K. */
class GptqCliTest {

    @TempDir
    Path dir;

    @Test
    void quantizeWithGptqWritesOrdinaryFq6() throws Exception {
        Path model = CliRun.root().resolve("models/stories260K.bin");
        Path text = Files.writeString(dir.resolve("story.txt"), CliRun.story());
        Path out = dir.resolve("gptq.gguf");
        CliRun r = CliRun.of("quantize", model.toString(), out.toString(), "--preset", "a8", "--gptq", "--head", "fq6", "--calib", text.toString(),
                "--gptq-windows", "2", "--gptq-ctx", "64");
        assertEquals(0, r.status(), r.err());
        try (Fq6File f = Fq6File.open(out, BuiltinTypes.registry(getClass().getClassLoader()))) {
            assertEquals(36, f.fq6Tensors().size(), "35 linears and the tied embedding/head");
            assertEquals("gptq+clip", f.gguf().metadata().getString(Fq6Keys.WEIGHT_QUANTIZER));
        }
        CliRun e = CliRun.of("eval", out.toString(), "--text", text.toString(), "--ctx", "64");
        assertEquals(0, e.status(), e.err());
    }

    @Test
    void gptqFlagsWithoutGptqAreRefused() {
        Path model = CliRun.root().resolve("models/stories260K.bin");
        CliRun r = CliRun.of("quantize", model.toString(), dir.resolve("x.gguf").toString(), "--preset", "a8", "--no-gptq", "--gptq-damp", "0.1");
        assertNotEquals(0, r.status());
        assertTrue(r.err().contains("--gptq-damp"), r.err());
    }

    @Test
    void qualityShowsGptqRows() throws Exception {
        Path model = CliRun.root().resolve("models/stories260K.bin");
        Path text = Files.writeString(dir.resolve("story.txt"), CliRun.story());
        CliRun r = CliRun.of("quality", model.toString(), "--text", text.toString(), "--ctx", "64", "--windows", "1", "--variants", "ref,a8",
                "--gptq", "--calib", text.toString(), "--gptq-windows", "2", "--gptq-ctx", "64");
        assertEquals(0, r.status(), r.err());
        assertTrue(r.out().contains("| FQ6 W6A8 |"), r.out());
        assertTrue(r.out().contains("| FQ6 W6A8 GPTQ |"), r.out());
    }
}
