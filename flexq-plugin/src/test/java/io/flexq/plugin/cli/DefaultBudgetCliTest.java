package io.flexq.plugin.cli;

import io.flexq.plugin.fq6.Fq6File;
import io.flexq.plugin.fq6.LinearTensors;
import io.flexq.plugin.quant.Fq6Layout;
import io.flexq.runtime.model.TensorEntry;
import io.flexq.runtime.tensor.BuiltinTypes;
import io.flexq.runtime.tensor.QuantTypes;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code flexq quantize} without {@code --max-bytes}: the q6_k budget where it is bounded and possible, else plain FQ6
 * with one stderr line. The model where it applies is a random 4-block HF Llama (hidden 128, intermediate 512, vocab
 * 512: rows of whole 128-groups, so its FQ6 file is smaller than its Q6_K size, unlike stories260K's).
 */
class DefaultBudgetCliTest {

    @TempDir
    static Path dir;

    static Path model;
    static Path text;

    @BeforeAll
    static void writeModel() throws Exception {
        model = dir.resolve("hf4");
        SafetensorsQuantizeTest.writeModel(model, 4, 512);
        text = Files.writeString(dir.resolve("story.txt"), CliRun.story().repeat(2));
    }

    private static CliRun quantize(Path out, String... extra) {
        List<String> argv = new ArrayList<>(List.of("quantize", model.toString(), out.toString(), "--preset", "a8", "--no-gptq",
                "--tokenizer", CliRun.root().resolve("models/tok512.bin").toString()));
        if (!List.of(extra).contains("none")) {
            argv.addAll(List.of("--calib", text.toString()));  // with --no-gptq and no budget, --calib has nothing to calibrate
        }
        argv.addAll(List.of(extra));
        return CliRun.of(argv.toArray(String[]::new));
    }

    private static final String[] SMALL_CALIB = {"--calib-windows", "2", "--calib-ctx", "64"};

    @Test
    void theDefaultIsTheQ6KBudgetDeterministicAndNoneTurnsItOff() throws Exception {
        Path[] dflt = {dir.resolve("default-1.gguf"), dir.resolve("default-2.gguf")};
        for (Path out : dflt) {
            CliRun r = quantize(out, SMALL_CALIB);
            assertEquals(0, r.status(), r.err());
            assertTrue(r.err().contains("default --max-bytes q6_k (--max-bytes none turns it off)"), r.err());
            assertTrue(r.err().contains("promotion"), "progress of the analysis on stderr: " + r.err());
            assertTrue(r.out().contains("promoted "), r.out());
        }
        assertEquals(-1L, Files.mismatch(dflt[0], dflt[1]), "two default runs: the files differ (first differing byte)");

        Path explicit = dir.resolve("explicit.gguf");
        CliRun e = quantize(explicit, "--max-bytes", "q6_k", SMALL_CALIB[0], SMALL_CALIB[1], SMALL_CALIB[2], SMALL_CALIB[3]);
        assertEquals(0, e.status(), e.err());
        assertFalse(e.err().contains("default --max-bytes"), e.err());
        assertEquals(-1L, Files.mismatch(dflt[0], explicit), "the default file is the --max-bytes q6_k file");

        Path none = dir.resolve("none.gguf");
        CliRun n = quantize(none, "--max-bytes", "none");
        assertEquals(0, n.status(), n.err());
        assertFalse(n.err().contains("--max-bytes"), "no line about a budget that was turned off: " + n.err());
        assertTrue(Files.size(none) < Files.size(dflt[0]), Files.size(none) + " vs " + Files.size(dflt[0]));

        var types = BuiltinTypes.registry(DefaultBudgetCliTest.class.getClassLoader());
        int promoted = 0;
        try (Fq6File d = Fq6File.open(dflt[0], types); Fq6File p = Fq6File.open(none, types)) {
            assertTrue(d.gguf().metadata().has(PromotionStep.MAX_BYTES_KEY));
            assertFalse(p.gguf().metadata().has(PromotionStep.MAX_BYTES_KEY));
            for (TensorEntry t : p.gguf().tensors().values()) {
                if (LinearTensors.isLinear(t.name())) {
                    assertEquals(Fq6Layout.TYPE_ID, t.type().id(), t.name() + " in the --max-bytes none file");
                    if (d.gguf().tensor(t.name()).type().id() == QuantTypes.Q8_0.id()) {
                        promoted++;
                    }
                }
            }
        }
        assertTrue(promoted > 0, "the default file promoted no linear");
    }

    @Test
    void autoStillReportsItsPredictedSpeedGainNextToItsQualityCostUnderTheDefaultBudget() throws Exception {
        Path out = dir.resolve("auto.gguf");
        CliRun r = CliRun.of("quantize", model.toString(), out.toString(), "--no-gptq", "--target", "btc", "--tokenizer",
                CliRun.root().resolve("models/tok512.bin").toString(), "--calib", text.toString(), "--calib-windows", "2", "--calib-ctx", "64");
        assertEquals(0, r.status(), r.err());
        assertTrue(r.err().contains("default --max-bytes q6_k (--max-bytes none turns it off)"), r.err());
        assertTrue(r.out().contains("promoted "), r.out());
        assertTrue(r.out().contains("quality cost of the A6 layers: predicted KLD vs all-A8"), r.out());
        assertTrue(r.out().contains("predicted speed: btc"), r.out());
    }

    @Test
    void anUnboundedAnalysisIsSkippedWithOneLineAndTheFileIsPlainFq6() throws Exception {
        // 100,000 windows of 256 tokens x 30 passes: past DefaultBudget.WORK_BOUND, refused before any window is made
        Path out = dir.resolve("unbounded.gguf");
        CliRun r = quantize(out, "--calib-windows", "100000", "--calib-ctx", "256");
        assertEquals(0, r.status(), r.err());
        List<String> lines = r.err().lines().filter(l -> l.contains("default --max-bytes")).toList();
        assertEquals(1, lines.size(), r.err());
        assertTrue(lines.getFirst().startsWith("warning: ") && lines.getFirst().contains("exceeds the default bound")
                && lines.getFirst().contains("--max-bytes q6_k to insist"), lines.getFirst());
        assertFalse(r.err().contains("promotion ["), "no analysis ran: " + r.err());
        try (Fq6File f = Fq6File.open(out, BuiltinTypes.registry(getClass().getClassLoader()))) {
            assertFalse(f.gguf().metadata().has(PromotionStep.MAX_BYTES_KEY));
        }
    }

    @Test
    void onStories260KTheBudgetIsBelowTheFq6FileSoTheDefaultSkipsWithTheReason() throws Exception {
        Path out = dir.resolve("s260k.gguf");
        CliRun r = CliRun.of("quantize", CliRun.root().resolve("models/stories260K.bin").toString(), out.toString(), "--no-gptq");
        assertEquals(0, r.status(), r.err());
        List<String> lines = r.err().lines().filter(l -> l.contains("default --max-bytes")).toList();
        assertEquals(1, lines.size(), r.err());
        assertTrue(lines.getFirst().contains("below the FQ6 file's own"), lines.getFirst());
        try (Fq6File f = Fq6File.open(out, BuiltinTypes.registry(getClass().getClassLoader()))) {
            assertFalse(f.gguf().metadata().has(PromotionStep.MAX_BYTES_KEY));
        }
    }
}
