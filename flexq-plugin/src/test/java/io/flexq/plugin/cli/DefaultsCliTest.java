package io.flexq.plugin.cli;

import io.flexq.plugin.fq6.Fq6File;
import io.flexq.plugin.fq6.Fq6Keys;
import io.flexq.runtime.tensor.BuiltinTypes;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The default preset follows the A6/A8 cost table of the target kernel paths. */
class DefaultsCliTest {

    @TempDir
    Path dir;

    @Test
    void defaultIsA8OnTheShippedPathsAndAutoWithSpeedEstimateOnBitSerial() throws Exception {
        Path model = CliRun.root().resolve("models/stories260K.bin");
        Path text = Files.writeString(dir.resolve("story.txt"), CliRun.story());
        Path a8 = dir.resolve("default.gguf");
        CliRun r = CliRun.of("quantize", model.toString(), a8.toString(), "--no-gptq");
        assertEquals(0, r.status(), r.err());
        try (Fq6File f = Fq6File.open(a8, BuiltinTypes.registry(getClass().getClassLoader()))) {
            assertEquals("a8", f.gguf().metadata().getString(Fq6Keys.PRESET));
        }
        Path auto = dir.resolve("btc.gguf");
        r = CliRun.of("quantize", model.toString(), auto.toString(), "--no-gptq", "--target", "btc", "--calib", text.toString(),
                "--calib-windows", "1", "--calib-ctx", "48");
        assertEquals(0, r.status(), r.err());
        try (Fq6File f = Fq6File.open(auto, BuiltinTypes.registry(getClass().getClassLoader()))) {
            assertEquals("auto", f.gguf().metadata().getString(Fq6Keys.PRESET));
        }
        assertTrue(r.out().contains("predicted speed: btc"), r.out());
        assertTrue(r.out().contains("quality cost of the A6 layers: predicted KLD vs all-A8"), r.out());
        CliRun bad = CliRun.of("quantize", model.toString(), dir.resolve("x.gguf").toString(), "--target", "tpu");
        assertEquals(2, bad.status());
        assertTrue(bad.err().contains("--target") && bad.err().contains("tpu"), bad.err());
    }
}
