package io.flexq.runtime.cli;

import io.flexq.runtime.model.SharedData;
import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code flexq bench} in-process on tiny models: the table's shape and the columns that do not depend on timing
 * (model, weight types, threads, counts, weight bytes), and flag errors. No timing is asserted.
 */
class BenchCommandTest {

    /** The cells of the one data row after the Markdown header and separator. */
    private static List<String> row(String out) {
        List<String> lines = out.lines().toList();
        assertEquals(3, lines.size(), out);
        assertTrue(lines.get(0).startsWith("| model | weights | backend | threads |"), out);
        String[] cells = lines.get(2).split("\\|");
        return Arrays.stream(cells).map(String::trim).toList().subList(1, cells.length);
    }

    @Test
    void syntheticTinyQ8_0ReportsItsTypeThreadsCountsAndBytes() {
        MainTest.Outcome o = MainTest.run("bench", "--synthetic", "tiny", "--type", "Q8_0", "--prompt-tokens", "8",
                "--decode-tokens", "3", "--warmup", "0", "--runs", "2", "--threads", "2");
        assertEquals(0, o.status(), o.err());
        List<String> cells = row(o.out());
        // tiny: dim 64, hidden 256, 2 layers, 4 heads / 1 KV head of 16, vocab 512, tied
        long matrixWeights = 512 * 64 + 2 * (64 * 64 + 2 * 16 * 64 + 64 * 64 + 3 * 256 * 64);
        long normWeights = 5 * 64;
        assertEquals(List.of("synthetic tiny", "Q8_0", "cpu", "2", "8", "3", "2"), cells.subList(0, 7), o.out());
        assertEquals(String.format("%,d", matrixWeights / 32 * 34 + normWeights * 4), cells.get(9), o.out());
        assertTrue(cells.get(7).matches("[0-9.]+ \\[[0-9.]+, [0-9.]+]"), "prefill cell: " + cells.get(7));
        assertTrue(o.err().contains("run 2/2"), o.err());
    }

    @Test
    void storiesQ8_0GgufReportsItsMixOfStoredTypes() {
        String gguf = SharedData.require("models/stories260K-q8_0.gguf").toString();
        MainTest.Outcome o = MainTest.run("bench", "--model", gguf, "--prompt-tokens", "6", "--decode-tokens", "2",
                "--warmup", "0", "--runs", "1", "--threads", "1");
        assertEquals(0, o.status(), o.err());
        List<String> cells = row(o.out());
        // models/README.md: Q8_0 for token_embd, output and the block matrices but ffn_down, which stays F16;
        // Q8_0 bytes: (2 x 512 + 5 x (64 + 32 + 32 + 64 + 172 + 172)) rows x 2 blocks x 34 = 251,872;
        // F16: 5 x 64 rows x 172 x 2 = 110,080; F32 norms: 11 x 64 x 4 = 2,816
        assertEquals(List.of("stories260K-q8_0.gguf", "Q8_0+F16", "cpu", "1", "6", "2", "1"), cells.subList(0, 7), o.out());
        assertEquals(String.format("%,d", 251_872 + 110_080 + 2_816), cells.get(9));
    }

    @Test
    void flagMistakesAreOneLineWithStatus2() {
        String gguf = SharedData.require("models/stories260K-q8_0.gguf").toString();
        MainTest.Outcome both = MainTest.run("bench", "--model", gguf, "--synthetic", "tiny");
        assertEquals(2, both.status());
        assertTrue(both.err().contains("--model or --synthetic"), both.err());
        MainTest.Outcome typeWithFile = MainTest.run("bench", "--model", gguf, "--type", "q8_0");
        assertEquals(2, typeWithFile.status());
        assertTrue(typeWithFile.err().contains("--type applies to --synthetic"), typeWithFile.err());
        MainTest.Outcome badType = MainTest.run("bench", "--synthetic", "tiny", "--type", "q9_9");
        assertEquals(2, badType.status());
        assertTrue(badType.err().contains("q9_9") && badType.err().contains("q8_0"), badType.err());
        MainTest.Outcome badShape = MainTest.run("bench", "--synthetic", "llama-99b");
        assertEquals(2, badShape.status());
        assertTrue(badShape.err().contains("llama-99b") && badShape.err().contains("llama-3.2-1b"), badShape.err());
        MainTest.Outcome unstorable = MainTest.run("bench", "--synthetic", "tiny", "--type", "q6_k");
        assertEquals(2, unstorable.status());
        assertTrue(unstorable.err().contains("q6_k") && unstorable.err().contains("token_embd.weight"), unstorable.err());
        MainTest.Outcome zeroRuns = MainTest.run("bench", "--synthetic", "tiny", "--runs", "0");
        assertEquals(2, zeroRuns.status());
        assertTrue(zeroRuns.err().contains("--runs"), zeroRuns.err());
        for (MainTest.Outcome o : List.of(both, typeWithFile, badType, badShape, unstorable, zeroRuns)) {
            assertEquals("", o.out());
            assertEquals(1, o.err().lines().count(), o.err());
        }
    }

    @Test
    void batchAboveOneRunsTheSequencesOneAfterTheOtherOnTheCpuAndOutOfRangeIsAUsageError() {
        MainTest.Outcome two = MainTest.run("bench", "--synthetic", "tiny", "--batch", "2", "--prompt-tokens", "4", "--decode-tokens", "2",
                "--warmup", "0", "--runs", "1", "--device", "cpu");
        assertEquals(0, two.status(), two.err());
        assertTrue(two.out().contains("batch 2 (sequences one after the other on the CPU)"), two.out());
        MainTest.Outcome tooMany = MainTest.run("bench", "--synthetic", "tiny", "--batch", "65");
        assertEquals(2, tooMany.status());
        assertTrue(tooMany.err().contains("--batch must be at most 64, got 65"), tooMany.err());
        MainTest.Outcome one = MainTest.run("bench", "--synthetic", "tiny", "--batch", "1", "--prompt-tokens", "4", "--decode-tokens", "1",
                "--warmup", "0", "--runs", "1");
        assertEquals(0, one.status(), one.err());
    }
}
