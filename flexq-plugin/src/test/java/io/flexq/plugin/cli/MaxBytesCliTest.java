package io.flexq.plugin.cli;

import io.flexq.plugin.fq6.Fq6File;
import io.flexq.plugin.quant.ActivationMode;
import io.flexq.plugin.quant.Fq6Layout;
import io.flexq.runtime.model.ModelFile;
import io.flexq.runtime.model.ModelFiles;
import io.flexq.runtime.model.TensorEntry;
import io.flexq.runtime.tensor.BuiltinTypes;
import io.flexq.runtime.tensor.QuantTypes;
import io.flexq.runtime.tensor.Quantizers;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code flexq quantize --max-bytes}, end to end on the bundled stories260K. */
class MaxBytesCliTest {

    @TempDir
    Path dir;

    private static final List<String> CALIB = List.of("--gptq", "--gptq-windows", "2", "--gptq-ctx", "64");

    @Test
    void promotedLayersAreTheSourcesQ8_0AndTheFileStaysWithinTheBudget() throws Exception {
        Path model = CliRun.root().resolve("models/stories260K.bin");
        Path text = Files.writeString(dir.resolve("story.txt"), CliRun.story());
        Path plain = dir.resolve("plain.gguf"), mixed = dir.resolve("mixed.gguf");
        long budget = 400_000;
        for (Path out : new Path[]{plain, mixed}) {
            List<String> argv = new ArrayList<>(List.of("quantize", model.toString(), out.toString(), "--preset", "a8", "--calib", text.toString()));
            argv.addAll(CALIB);
            if (out == mixed) {
                argv.addAll(List.of("--max-bytes", Long.toString(budget), "--calib-windows", "2", "--calib-ctx", "64"));
            }
            CliRun r = CliRun.of(argv.toArray(String[]::new));
            assertEquals(0, r.status(), r.err());
            if (out == mixed) {
                assertTrue(r.out().contains("promoted "), r.out());
            }
        }
        assertTrue(Files.size(mixed) <= budget, Files.size(mixed) + " bytes");
        var types = BuiltinTypes.registry(getClass().getClassLoader());
        int promoted = 0;
        try (Fq6File p = Fq6File.open(plain, types); Fq6File m = Fq6File.open(mixed, types);
             ModelFile src = ModelFiles.open(model, types)) {
            for (String name : p.fq6Tensors()) {
                if (!io.flexq.plugin.fq6.LinearTensors.isLinear(name)) {
                    continue;
                }
                TensorEntry t = m.gguf().tensor(name);
                boolean candidate = m.gguf().metadata().has(PromotionStep.PROMOTION_GAIN + name);
                assertEquals(candidate, t.cols() % 32 == 0, name + ": a gain is measured for every Q8_0-able linear, and only those");
                if (t.type().id() == Fq6Layout.TYPE_ID) {
                    // untouched: the plain file's bytes and mode
                    assertEquals(-1L, t.data().mismatch(p.gguf().tensor(name).data()), name);
                    assertEquals(ActivationMode.A8, m.mode(name));
                    continue;
                }
                promoted++;
                assertEquals(QuantTypes.Q8_0.id(), t.type().id(), name);
                assertTrue(m.gguf().metadata().getDouble(PromotionStep.PROMOTION_GAIN + name, Double.NaN) > 0, name + ": promoted with a gain <= 0");
                assertFalse(m.gguf().metadata().has(ActivationMode.metadataKey(name)), name + ": a Q8_0 tensor has no activation mode");
                // Q8_0 of the source values, not of the FQ6 ones
                TensorEntry s = src.tensor(name);
                int rows = (int) s.rows(), cols = (int) s.cols();
                float[] w = new float[rows * cols];
                for (int r = 0; r < rows; r++) {
                    s.type().dequantizeRow(s.data(), r, cols, w, r * cols);
                }
                assertEquals(-1L, t.data().mismatch(MemorySegment.ofArray(Quantizers.quantize(QuantTypes.Q8_0, w, rows, cols))), name);
            }
        }
        assertTrue(promoted > 0, "nothing promoted");
        // the promoted file is closer to the source than the plain one on the text it was measured on
        double[] kld = new double[2];
        Path[] files = {plain, mixed};
        for (int i = 0; i < 2; i++) {
            CliRun e = CliRun.of("eval", files[i].toString(), "--ref", model.toString(), "--text", text.toString(), "--ctx", "64", "--json");
            assertEquals(0, e.status(), e.err());
            var mt = Pattern.compile("\"kld_mean\"\\s*:\\s*([0-9.eE+-]+)").matcher(e.out());
            assertTrue(mt.find(), e.out());
            kld[i] = Double.parseDouble(mt.group(1));
        }
        assertTrue(kld[1] < kld[0], "KLD with " + promoted + " promoted layers " + kld[1] + " vs FQ6 " + kld[0]);
    }

    @Test
    void badBudgetsAreClearErrors() {
        Path model = CliRun.root().resolve("models/stories260K.bin");
        String out = dir.resolve("x.gguf").toString();
        for (String bad : new String[]{"lots", "0", "-1", "q4_0", "1e6"}) {
            CliRun r = CliRun.of("quantize", model.toString(), out, "--no-gptq", "--max-bytes", bad);
            assertEquals(2, r.status(), bad + ": " + r.err());
            assertTrue(r.err().contains("--max-bytes"), r.err());
        }
        CliRun small = CliRun.of("quantize", model.toString(), out, "--no-gptq", "--max-bytes", "1000");
        assertEquals(1, small.status(), small.err());
        assertTrue(small.err().contains("--max-bytes 1000") && small.err().contains("no layer promoted"), small.err());
        CliRun noBudget = CliRun.of("quantize", model.toString(), out, "--preset", "a8", "--max-bytes", "none", "--calib-windows", "2");
        assertEquals(2, noBudget.status(), noBudget.err());
        assertTrue(noBudget.err().contains("--calib-windows") && noBudget.err().contains("--max-bytes none"), noBudget.err());
        CliRun typo = CliRun.of("quantize", model.toString(), out, "--no-gptq", "--max-bytes", "nothing");
        assertEquals(2, typo.status(), typo.err());
        assertTrue(typo.err().contains("or none"), "the opt-out is named: " + typo.err());
        assertFalse(Files.exists(Path.of(out)));
    }
}
