package io.flexq.runtime.fuzz;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Property-based fuzzing of every runtime reader (issue 11): whatever edits (byte flips, boundary integers in the
 * header, truncation, duplicated or deleted runs, JSON tokens) are made to a real file, reading it is accepted or
 * ends in a clean error, never another exception, an Error, a hang, or a message with terminal controls. Each
 * reader gets a fixed number of seeded random edit lists; a failure is shrunk to a minimal edit list and reported
 * with its seed (see {@link FuzzCheck}). Bounded for CI (about a second or two per reader on 2 cores);
 * {@code tools/fuzz-readers.sh} runs the same targets for minutes.
 */
@Timeout(300)
class ReaderFuzzTest {

    private static Path scratch;

    @BeforeAll
    static void scratch() throws IOException {
        scratch = Files.createTempDirectory("flexq-fuzz");
    }

    @AfterAll
    static void clean() throws IOException {
        FuzzStats.deleteTree(scratch);
    }

    @Test
    void gguf() throws IOException {
        FuzzCheck.check(Readers.gguf(), 60, 1101, scratch);
    }

    @Test
    void llama2cCheckpoint() throws IOException {
        FuzzCheck.check(Readers.llama2c(), 40, 1102, scratch);
    }

    @Test
    void tokenizerBin() throws IOException {
        FuzzCheck.check(Readers.tokenizerBin(), 150, 1103, scratch);
    }

    @Test
    void tokenizerJson() throws IOException {
        FuzzCheck.check(Readers.tokenizerJson(), 80, 1104, scratch);
    }

    @Test
    void safetensorsHeader() throws IOException {
        FuzzCheck.check(Readers.safetensors(scratch), 100, 1105, scratch);
    }

    @Test
    void configJson() throws IOException {
        FuzzCheck.check(Readers.configJson(scratch), 100, 1106, scratch);
    }

    @Test
    void chatTemplateInput() throws IOException {
        FuzzCheck.check(Readers.chatInput(), 150, 1107, scratch);
    }
}
