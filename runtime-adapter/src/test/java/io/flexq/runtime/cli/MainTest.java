package io.flexq.runtime.cli;

import io.flexq.runtime.model.SharedData;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The CLI in-process: stdout carries only generated text, errors are one line with a non-zero status. */
class MainTest {

    record Outcome(int status, String out, String err) {
    }

    static Outcome withInput(String stdin, String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int status = Main.run(args, new ByteArrayInputStream(stdin.getBytes(StandardCharsets.UTF_8)),
                new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8));
        return new Outcome(status, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    static Outcome run(String... args) {
        return withInput("", args);
    }

    /**
     * The decoded text in stories260K-greedy.txt (the lines after the ids). The file joins pieces with '▁' as a
     * space, so it starts with the space of "▁Once"; a SentencePiece decoder drops that space after BOS.
     */
    static String referenceText() throws IOException {
        List<String> lines = Files.readAllLines(SharedData.require("models/stories260K-greedy.txt"), StandardCharsets.UTF_8);
        int idsLine = 0;
        while (lines.get(idsLine).startsWith("#")) {
            idsLine++;
        }
        String text = String.join("\n", lines.subList(idsLine + 1, lines.size()));
        assertTrue(text.startsWith(" Once upon a time"), text);
        return text.substring(1);
    }

    @Test
    void greedyGenerationPrintsExactlyTheReferenceText() throws IOException {
        Outcome o = run("generate", "--temperature", "0", "--max-tokens", "160");
        assertEquals(0, o.status(), o.err());
        assertEquals(referenceText(), o.out());
    }

    @Test
    void aSuccessfulRunSaysOnStderrWhichBackendHoldsTheWeights() {
        // stories260K: 5 blocks x 7 linear matrices + the tied output head = 36 F32 matrices; only the built-in
        // CPU backend is on this module's class path
        Outcome o = run("generate", "--temperature", "0", "--max-tokens", "4");
        assertEquals(0, o.status(), o.err());
        assertTrue(o.err().lines().anyMatch(l -> l.equals("backends: cpu 36 x F32")), o.err());
    }

    @Test
    void theGgufModelIsRefusedPastItsContextAndAllowedWithAWarningUnderCtx() throws IOException {
        String gguf = SharedData.require("models/stories260K-f32.gguf").toString();
        Outcome refused = run("generate", "--model", gguf, "--temperature", "0", "--max-tokens", "160");
        assertEquals(1, refused.status());
        assertEquals("", refused.out());
        assertTrue(refused.err().contains("exceeds the context of 128 tokens"), refused.err());
        assertEquals(1, refused.err().strip().lines().count(), refused.err());

        Outcome allowed = run("generate", "--model", gguf, "--temperature", "0", "--max-tokens", "160", "--ctx", "512");
        assertEquals(0, allowed.status(), allowed.err());
        assertTrue(allowed.err().contains("warning: context 512 is longer than the 128 tokens"), allowed.err());
        assertEquals(referenceText(), allowed.out());
    }

    @Test
    void aGgufModelUsesItsOwnVocabularyForPromptAndText() {
        // models/README.md: llama.cpp's greedy text for "The" on flexq-ref-27M (prompt <s> 358), here without the prompt
        String expected = " whole of the world, and the whole world, is a mere machine.\nThese are the things that are not the things"
                + " that are not the things that are not the things that are not the things that are not the things that are not."
                + " They are not the things that are not the things that are";
        Outcome o = run("generate", "--model", SharedData.require("models/flexq-ref-27M-f16.gguf").toString(),
                "--prompt", "The", "--temperature", "0", "--max-tokens", "64");
        assertEquals(0, o.status(), o.err());
        assertEquals(expected, o.out());
    }

    @Test
    void theSameSeedGivesTheSameText() {
        Outcome a = run("generate", "--prompt", "The cat", "--temperature", "0.9", "--top-p", "0.8", "--seed", "77", "--max-tokens", "40");
        Outcome b = run("generate", "--prompt", "The cat", "--temperature", "0.9", "--top-p", "0.8", "--seed", "77", "--max-tokens", "40");
        Outcome c = run("generate", "--prompt", "The cat", "--temperature", "0.9", "--top-p", "0.8", "--seed", "78", "--max-tokens", "40");
        assertEquals(0, a.status(), a.err());
        assertFalse(a.out().isBlank());
        assertEquals(a.out(), b.out(), "seed 77 twice");
        assertFalse(a.out().equals(c.out()), "seeds 77 and 78 gave the same 40 tokens: " + a.out());
    }

    @Test
    void badFlagsAreOneLineWithStatus2AndNoStackTrace() {
        for (String[] args : new String[][]{
                {"generate", "--max-tokens", "many"},
                {"generate", "--temprature", "0"},
                {"generate", "--top-p", "1.5"},
                {"generate", "--max-tokens"},
                {"generate", "--template", "chatml"},
                {"frobnicate"},
        }) {
            Outcome o = run(args);
            assertEquals(2, o.status(), String.join(" ", args) + ": " + o.err());
            assertEquals("", o.out());
            assertEquals(1, o.err().strip().lines().count(), o.err());
            assertFalse(o.err().contains("\tat "), o.err());
        }
        assertTrue(run("generate", "--max-tokens", "many").err().contains("--max-tokens expects a whole number, got 'many'"));
        assertTrue(run("generate", "--temprature", "0").err().contains("unknown flag --temprature"));
    }

    @Test
    void aMissingOrMismatchedFileIsNamed() {
        Outcome missing = run("generate", "--model", "/nonexistent/model.gguf");
        assertEquals(1, missing.status());
        assertTrue(missing.err().contains("/nonexistent/model.gguf"), missing.err());
        assertFalse(missing.err().contains("\tat "), missing.err());

        String tok4096 = SharedData.require("models/flexq-ref-27M-tok4096.bin").toString();
        Outcome mismatch = run("generate", "--model", SharedData.require("models/stories260K.bin").toString(), "--tokenizer", tok4096);
        assertEquals(1, mismatch.status());
        assertTrue(mismatch.err().contains("4096") && mismatch.err().contains("512"), mismatch.err());

        Outcome verbose = run("generate", "--model", "/nonexistent/model.gguf", "--verbose");
        assertTrue(verbose.err().contains("\tat "), "--verbose shows the stack trace");
    }

    @Test
    void chatOnABaseModelCompletesEachLine() {
        Outcome o = withInput("Once upon a time\n\n/quit\n", "chat", "--temperature", "0", "--max-tokens", "12");
        assertEquals(0, o.status(), o.err());
        List<String> replies = o.out().lines().toList();
        assertEquals(2, replies.size(), o.out());
        assertTrue(replies.get(1).startsWith("Once upon a time, there was a little girl"), "empty line: from BOS: " + replies.get(1));
        assertTrue(o.err().contains("template plain"), o.err());
    }

    @Test
    void helpGoesToStdout() {
        Outcome o = run("generate", "--help");
        assertEquals(0, o.status());
        assertTrue(o.out().contains("--max-tokens"));
        assertEquals(2, run().status());
    }

    @Test
    void verbosityLevelsDecideWhatReachesStderr() {
        Outcome normal = run("generate", "--temperature", "0", "--max-tokens", "4");
        assertEquals(0, normal.status(), normal.err());
        assertTrue(normal.err().contains("backends: cpu 36 x F32"), normal.err());
        assertFalse(normal.err().contains("model "), "DEBUG lines only with --verbose: " + normal.err());

        Outcome quiet = run("generate", "--temperature", "0", "--max-tokens", "4", "--quiet");
        assertEquals(0, quiet.status(), quiet.err());
        assertEquals(normal.out(), quiet.out());
        assertFalse(quiet.err().contains("backends:"), "INFO is hidden by --quiet: " + quiet.err());

        Outcome verbose = run("generate", "--temperature", "0", "--max-tokens", "4", "--verbose");
        assertEquals(0, verbose.status(), verbose.err());
        assertTrue(verbose.err().lines().anyMatch(l -> l.startsWith("model ") && l.contains("stories260K.bin")), verbose.err());
        assertTrue(verbose.err().lines().anyMatch(l -> l.startsWith("sampling: temperature 0.0")), verbose.err());

        Outcome both = run("generate", "--verbose", "--quiet");
        assertEquals(2, both.status());
        assertEquals("flexq generate: error: --verbose and --quiet exclude each other (see flexq generate --help)\n", both.err());
    }

    @Test
    void kvCacheSetsTheSystemPropertyOnlyWhenGivenAndRefusesOtherValues() {
        restoring(KvCacheOption.PROPERTY, () -> {
            System.clearProperty(KvCacheOption.PROPERTY);
            Outcome none = run("generate", "--temperature", "0", "--max-tokens", "2");
            assertEquals(0, none.status(), none.err());
            assertEquals(null, System.getProperty(KvCacheOption.PROPERTY), "absent: the runtime's default stands");
            Outcome f32 = run("generate", "--kv-cache", "F32", "--temperature", "0", "--max-tokens", "2");
            assertEquals(0, f32.status(), f32.err());
            assertEquals("f32", System.getProperty(KvCacheOption.PROPERTY));

            Outcome f8 = run("generate", "--kv-cache", "f8");
            assertEquals(2, f8.status());
            assertEquals("flexq generate: error: --kv-cache: 'f8' is not one of f16, f32 (see flexq generate --help)\n", f8.err());
        });
    }

    @Test
    void deviceSetsTheSystemPropertyBeforeTheModelLoadsAndRefusesOtherValues() {
        restoring(DeviceOption.PROPERTY, () -> {
            Outcome cpu = run("generate", "--device", "cpu", "--temperature", "0", "--max-tokens", "2");
            assertEquals(0, cpu.status(), cpu.err());
            assertEquals("cpu", System.getProperty(DeviceOption.PROPERTY));
            Outcome auto = run("generate", "--temperature", "0", "--max-tokens", "2");
            assertEquals(0, auto.status(), auto.err());
            assertEquals("auto", System.getProperty(DeviceOption.PROPERTY), "the default is auto");

            Outcome gpu = run("generate", "--device", "gpu");
            assertEquals(2, gpu.status());
            assertEquals("flexq generate: error: --device: 'gpu' is not one of auto, cpu, cuda (see flexq generate --help)\n", gpu.err());
        });
    }

    /** Runs body, then puts the system property back as it was (the options under test set it for the JVM). */
    private static void restoring(String property, Runnable body) {
        String before = System.getProperty(property);
        try {
            body.run();
        } finally {
            if (before == null) {
                System.clearProperty(property);
            } else {
                System.setProperty(property, before);
            }
        }
    }

    @Test
    void aFlagGivenTwiceIsAnError() {
        Outcome o = run("generate", "--seed", "1", "--seed=2");
        assertEquals(2, o.status());
        assertEquals("flexq generate: error: flag --seed given twice (each flag is given at most once) (see flexq generate --help)\n", o.err());
    }
}
