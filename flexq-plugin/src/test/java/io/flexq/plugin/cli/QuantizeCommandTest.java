package io.flexq.plugin.cli;

import io.flexq.plugin.fq6.Fq6File;
import io.flexq.plugin.fq6.Fq6Keys;
import io.flexq.plugin.fq6.SyntheticLlama;
import io.flexq.plugin.quant.ActivationMode;
import io.flexq.plugin.quant.FlexqWeights;
import io.flexq.runtime.gguf.GgufFile;
import io.flexq.runtime.json.Json;
import io.flexq.runtime.tensor.BuiltinTypes;
import io.flexq.runtime.tensor.FloatTypes;
import io.flexq.runtime.tensor.QuantTypes;
import io.flexq.runtime.tensor.Quantizers;
import io.flexq.runtime.tokenizer.Tokenizer;
import io.flexq.runtime.tokenizer.Tokenizers;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code flexq quantize / inspect / eval} end to end on the bundled stories260K (llama2.c, hidden 172: a padded 128-group). */
class QuantizeCommandTest {

    static final ClassLoader LOADER = QuantizeCommandTest.class.getClassLoader();

    @TempDir
    static Path dir;
    static Path model, paper, text;

    @BeforeAll
    static void quantizePaper() throws Exception {
        model = CliRun.root().resolve("models/stories260K.bin");
        text = Files.writeString(dir.resolve("story.txt"), CliRun.story());
        paper = dir.resolve("paper.gguf");
        CliRun r = CliRun.of("quantize", model.toString(), paper.toString(), "--preset", "paper");
        assertEquals(0, r.status(), r.err());
    }

    @Test
    void paperPresetFileHasTheDocumentedMetadata() throws Exception {
        try (Fq6File f = Fq6File.open(paper, BuiltinTypes.registry(LOADER))) {
            var md = f.gguf().metadata();
            assertEquals(35, f.fq6Tensors().size());
            for (String t : f.fq6Tensors()) {
                assertEquals(t.endsWith("ffn_down.weight") ? ActivationMode.A8 : ActivationMode.A6, f.mode(t), t);
                assertTrue(md.getDouble(Fq6Keys.WEIGHT_ERROR + t) <= md.getDouble(Fq6Keys.WEIGHT_ERROR_RTN + t), t + ": clipping is never worse");
                assertTrue(md.getDouble(Fq6Keys.WEIGHT_ERROR + t) > 0, t);
            }
            assertEquals("paper", md.getString(Fq6Keys.PRESET));
            assertEquals(1L, md.getLong(Fq6Keys.VERSION));
            assertEquals(128L, md.getLong(Fq6Keys.GROUP_SIZE));
            assertEquals(64L, md.getLong("general.alignment"));
            assertEquals("llama2c", md.getString(Fq6Keys.SOURCE_FORMAT));
            // the sha256 published in models/README.md for the bundled checkpoint
            assertEquals("b0a507e7ad0f626624f17112325e66691f9076d622e1d3274d103d00299f2696", md.getString(Fq6Keys.SOURCE_SHA256));
            assertEquals(172L, md.getLong("llama.feed_forward_length"));
            assertEquals("F32", f.gguf().tensor("token_embd.weight").type().name());
            assertEquals("F32", f.gguf().tensor("blk.0.attn_norm.weight").type().name());
            // the embedded vocabulary tokenizes exactly as tok512.bin does
            Tokenizer embedded = Tokenizers.fromMetadata(md);
            Tokenizer original = Tokenizers.fromLlama2c(CliRun.root().resolve("models/tok512.bin"));
            assertArrayEquals(original.encodeWithBos(CliRun.story(), false), embedded.encodeWithBos(CliRun.story(), false));
            assertEquals(original.vocabularySize(), embedded.vocabularySize());
        }
    }

    @Test
    void inspectShowsTableModesAndAbbreviatesArrays() {
        CliRun r = CliRun.of("inspect", paper.toString());
        assertEquals(0, r.status(), r.err());
        assertTrue(r.out().contains("gguf v3, alignment 64"), r.out());
        assertTrue(r.out().contains("... 506 more] (512)"), "tokens abbreviated:\n" + r.out());
        assertTrue(r.out().matches("(?s).*blk\\.0\\.ffn_down\\.weight\\s+FQ6\\s+\\[172, 64\\].*A8.*"), r.out());
        // ffn_down: 64 rows x 2 groups x 98 bytes for 172 x 64 weights
        assertTrue(r.out().contains(String.format(java.util.Locale.ROOT, "%,d", 64 * 2 * 98)), r.out());
        assertTrue(r.out().contains("FlexQ activation modes: 30 x A6, 5 x A8 (preset paper)"), r.out());
    }

    @Test
    void evalAgainstTheFloatModel() {
        CliRun self = CliRun.of("eval", model.toString(), "--ref", model.toString(), "--text", text.toString(), "--ctx", "64", "--json");
        assertEquals(0, self.status(), self.err());
        Map<String, Object> s = Json.parseObject(self.out().strip(), "eval --json");
        assertEquals(0.0, ((Number) s.get("kld_mean")).doubleValue(), 1e-12, "a model against itself");
        assertEquals(1.0, ((Number) s.get("top1")).doubleValue());

        CliRun q = CliRun.of("eval", paper.toString(), "--ref", model.toString(), "--text", text.toString(), "--ctx", "64", "--windows", "2", "--json");
        assertEquals(0, q.status(), q.err());
        assertEquals(1, q.out().lines().count(), "--json prints one line: " + q.out());
        Map<String, Object> j = Json.parseObject(q.out().strip(), "eval --json");
        assertEquals(java.util.List.of("ppl", "kld_mean", "kld_p99", "top1", "tokens"), java.util.List.copyOf(j.keySet()));
        assertEquals(2L * 31, j.get("tokens"));
        // after the run, one stderr line says where the FQ6 matrices of MODEL ran
        assertTrue(q.err().lines().anyMatch(l -> l.startsWith("backends: flexq-cpu ") && l.contains(" x FQ6")), q.err());
        double kld = ((Number) j.get("kld_mean")).doubleValue();
        assertTrue(kld > 0 && kld < 1, "W6A6/A8 moves the distribution a little: " + kld);
        assertTrue(((Number) j.get("kld_p99")).doubleValue() >= kld);
        double top1 = ((Number) j.get("top1")).doubleValue();
        assertTrue(top1 > 0.5 && top1 <= 1, "top1 " + top1);

        CliRun human = CliRun.of("eval", paper.toString(), "--text", text.toString(), "--ctx", "64");
        assertEquals(0, human.status(), human.err());
        assertTrue(human.out().contains("second half of each window"), human.out());
    }

    @Test
    void autoPresetStoresScoresAndKeepsAQuarterAtA8() throws Exception {
        Path out = dir.resolve("auto.gguf");
        CliRun r = CliRun.of("quantize", model.toString(), out.toString(), "--calib", text.toString(), "--calib-windows", "2", "--calib-ctx", "48");
        assertEquals(0, r.status(), r.err());
        try (Fq6File f = Fq6File.open(out, BuiltinTypes.registry(LOADER))) {
            var md = f.gguf().metadata();
            int a8 = 0;
            for (String t : f.fq6Tensors()) {
                assertTrue(md.getDouble(Fq6Keys.SENSITIVITY + t) >= 0, t);
                if (f.mode(t) == ActivationMode.A8) a8++;
            }
            assertEquals(8, a8, "a8=25% of 35 layers");
            assertEquals("auto", md.getString(Fq6Keys.PRESET));
            assertEquals("a8=25%", md.getString(Fq6Keys.BUDGET));
            assertEquals(96L, md.getLong(Fq6Keys.CALIBRATION_TOKENS));
            assertEquals("gain", md.getString(Fq6Keys.CALIBRATION_RANK));
            assertTrue(md.has(Fq6Keys.A8_GAIN + "blk.0.ffn_down.weight"));
            assertTrue(md.getDouble(Fq6Keys.CALIBRATION_KLD_ALL_A6) > 0);
        }
        assertTrue(r.out().contains("preset auto: 8 x A8, 27 x A6, 0 x A16 of 35 linear layers"), r.out());
    }

    /** Q6_K tensors (type 14) are dequantized through the runtime's Q6_K type and requantized; the stored error is what FQ6 adds. */
    @Test
    void importsQ6KAndReportsTheAddedError() throws Exception {
        SyntheticLlama syn = new SyntheticLlama(256, 512, 1, 4, 2, 64, 5150L);
        Path src = syn.write(dir.resolve("q6k.gguf"), QuantTypes.Q6_K);
        Path out = dir.resolve("from-q6k.gguf");
        CliRun r = CliRun.of("quantize", src.toString(), out.toString(), "--preset", "w6a16", "--tokenizer", CliRun.root().resolve("models/tok512.bin").toString());
        // the synthetic model has 64 embedding rows, tok512 has 512 tokens: the tokenizer check refuses it
        assertEquals(1, r.status());
        assertTrue(r.err().contains("tokenizer") && r.err().lines().count() == 1, r.err());

        syn = new SyntheticLlama(256, 512, 1, 4, 2, 512, 5150L);
        src = syn.write(dir.resolve("q6k.gguf"), QuantTypes.Q6_K);
        r = CliRun.of("quantize", src.toString(), out.toString(), "--preset", "w6a16", "--tokenizer", CliRun.root().resolve("models/tok512.bin").toString());
        assertEquals(0, r.status(), r.err());
        assertTrue(r.out().contains("Q6_K"), r.out());
        try (GgufFile g = GgufFile.open(src, BuiltinTypes.registry(LOADER));
             Fq6File f = Fq6File.open(out, BuiltinTypes.registry(LOADER))) {
            for (String t : f.fq6Tensors()) {
                var e = g.tensor(t);
                int rows = (int) e.rows(), cols = (int) e.cols();
                float[] q6k = Quantizers.dequantize(QuantTypes.Q6_K, e.data(), rows, cols);
                FlexqWeights w = f.weights(t);
                float[] row = new float[cols];
                double err = 0, norm = 0;
                for (int i = 0; i < rows; i++) {
                    w.dequantizeRow(i, row, 0);
                    for (int c = 0; c < cols; c++) {
                        double d = (double) q6k[i * cols + c] - row[c];
                        err += d * d;
                        norm += (double) q6k[i * cols + c] * q6k[i * cols + c];
                    }
                }
                double expected = Math.sqrt(err / norm);
                assertEquals(expected, f.gguf().metadata().getDouble(Fq6Keys.WEIGHT_ERROR + t), 1e-6 * expected + 1e-9, t);
                assertTrue(expected > 0.001 && expected < 0.05, t + ": " + expected);
                assertEquals(ActivationMode.A16, f.mode(t));
            }
        }
    }

    @Test
    void userErrorsAreOneLineAndLeaveNoFile() throws Exception {
        Path out = dir.resolve("never.gguf");
        CliRun missing = CliRun.of("quantize", dir.resolve("nope.bin").toString(), out.toString(), "--preset", "a8");
        assertEquals(1, missing.status());
        assertEquals("flexq quantize: error: IN: no such file: " + dir.resolve("nope.bin") + "\n", missing.err());

        CliRun badPreset = CliRun.of("quantize", model.toString(), out.toString(), "--preset", "a7");
        assertEquals(2, badPreset.status());
        assertTrue(badPreset.err().contains("unknown preset 'a7'"), badPreset.err());

        CliRun badBudget = CliRun.of("quantize", model.toString(), out.toString(), "--budget", "a8=lots");
        assertEquals(2, badBudget.status());

        CliRun noDir = CliRun.of("quantize", model.toString(), dir.resolve("no/such/dir/x.gguf").toString(), "--preset", "a8");
        assertEquals(1, noDir.status());
        assertTrue(noDir.err().contains("OUT: directory does not exist"), noDir.err());

        // a NaN weight half way through the model: the error names the tensor, and no file appears
        SyntheticLlama syn = new SyntheticLlama(128, 256, 2, 4, 2, 512, 99L);
        syn.weights.get("blk.1.ffn_up.weight")[300] = Float.NaN;
        Path bad = syn.write(dir.resolve("nan.gguf"), FloatTypes.F32);
        CliRun nan = CliRun.of("quantize", bad.toString(), out.toString(), "--preset", "a8", "--tokenizer", CliRun.root().resolve("models/tok512.bin").toString());
        assertEquals(1, nan.status());
        String last = nan.err().lines().reduce((a, b) -> b).orElseThrow(); // progress lines come first
        assertEquals("flexq quantize: error: " + bad + ": blk.1.ffn_up.weight: weight at row 2, column 44 is NaN", last);
        assertEquals(1, nan.err().lines().filter(l -> l.contains("error")).count(), nan.err());
        assertFalse(Files.exists(out));
        try (var files = Files.list(dir)) {
            assertTrue(files.noneMatch(p -> p.getFileName().toString().contains("never.gguf")), "temporary left behind");
        }

        CliRun notLlama = CliRun.of("quantize", CliRun.root().resolve("models/tok512.bin").toString(), out.toString(), "--preset", "a8");
        assertEquals(1, notLlama.status());
        assertEquals(1, notLlama.err().lines().count(), notLlama.err());
    }
}
