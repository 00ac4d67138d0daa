package io.flexq.plugin.cli;

import io.flexq.plugin.fq6.Fq6File;
import io.flexq.plugin.fq6.Fq6Keys;
import io.flexq.runtime.tensor.BuiltinTypes;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code flexq quantize --smooth}, end to end on the bundled stories260K. */
class SmoothCliTest {

    @TempDir
    Path dir;

    @Test
    void smoothedFileRecordsAlphaStoresChangedNormsAndRuns() throws Exception {
        Path model = CliRun.root().resolve("models/stories260K.bin");
        Path text = Files.writeString(dir.resolve("story.txt"), CliRun.story());
        Path plain = dir.resolve("plain.gguf"), smooth = dir.resolve("smooth.gguf");
        for (Path out : new Path[]{plain, smooth}) {
            var argv = new java.util.ArrayList<>(java.util.List.of("quantize", model.toString(), out.toString(), "--preset", "a8", "--gptq",
                    "--calib", text.toString(), "--gptq-windows", "2", "--gptq-ctx", "64"));
            if (out == smooth) {
                argv.addAll(java.util.List.of("--smooth", "0.5"));
            }
            CliRun r = CliRun.of(argv.toArray(String[]::new));
            assertEquals(0, r.status(), r.err());
        }
        var types = BuiltinTypes.registry(getClass().getClassLoader());
        try (Fq6File p = Fq6File.open(plain, types); Fq6File s = Fq6File.open(smooth, types)) {
            assertEquals(0.5f, (float) s.gguf().metadata().getDouble(Fq6Keys.SMOOTHING_ALPHA, Double.NaN));
            assertFalse(p.gguf().metadata().has(Fq6Keys.SMOOTHING_ALPHA));
            assertEquals(p.gguf().tensors().keySet(), s.gguf().tensors().keySet(), "same tensors");
            var pn = p.gguf().tensor("blk.0.attn_norm.weight").data();
            var sn = s.gguf().tensor("blk.0.attn_norm.weight").data();
            assertEquals(pn.byteSize(), sn.byteSize());
            assertNotEquals(-1L, pn.mismatch(sn), "the norm took the division");
            for (String name : p.gguf().tensors().keySet()) { // same format: every tensor of the same type and size
                assertEquals(p.gguf().tensor(name).type(), s.gguf().tensor(name).type(), name);
                assertEquals(p.gguf().tensor(name).data().byteSize(), s.gguf().tensor(name).data().byteSize(), name);
            }
        }
        // the file runs as the same model: a transform applied to the weights but not the norms (or the reverse)
        // would be far off; quantized both ways, the two files' KLDs against the source stay of one order
        double[] kld = new double[2];
        Path[] files = {plain, smooth};
        for (int i = 0; i < 2; i++) {
            CliRun e = CliRun.of("eval", files[i].toString(), "--ref", model.toString(), "--text", text.toString(), "--ctx", "64", "--json");
            assertEquals(0, e.status(), e.err());
            var m = java.util.regex.Pattern.compile("\"kld_mean\"\\s*:\\s*([0-9.eE+-]+)").matcher(e.out());
            assertTrue(m.find(), e.out());
            kld[i] = Double.parseDouble(m.group(1));
        }
        assertTrue(kld[1] < 3 * kld[0] && kld[1] < 0.05, "KLD smoothed " + kld[1] + " vs plain " + kld[0]);
    }

    @Test
    void badAlphaOrNoCalibrationIsAUsageError() {
        Path model = CliRun.root().resolve("models/stories260K.bin");
        String out = dir.resolve("x.gguf").toString();
        for (String bad : new String[]{"1.5", "-0.1", "NaN", "half"}) {
            CliRun r = CliRun.of("quantize", model.toString(), out, "--preset", "a8", "--gptq", "--smooth", bad);
            assertEquals(2, r.status(), bad + ": " + r.err());
            assertTrue(r.err().contains("--smooth"), r.err());
        }
        CliRun r = CliRun.of("quantize", model.toString(), out, "--preset", "a8", "--no-gptq", "--smooth", "0.5");
        assertEquals(2, r.status(), r.err());
        assertTrue(r.err().contains("--smooth") && r.err().contains("--no-gptq"), r.err());
        assertFalse(Files.exists(Path.of(out)));
    }
}
