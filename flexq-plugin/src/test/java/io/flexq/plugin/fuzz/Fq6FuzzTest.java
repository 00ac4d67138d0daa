package io.flexq.plugin.fuzz;

import io.flexq.runtime.fuzz.FuzzCheck;
import io.flexq.runtime.fuzz.FuzzStats;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.nio.file.Files;
import java.nio.file.Path;

/** Property-based fuzzing of the FQ6 reader (issue 11); see the runtime's ReaderFuzzTest for the contract. */
@Timeout(300)
class Fq6FuzzTest {

    @Test
    void fq6File() throws Exception {
        Path scratch = Files.createTempDirectory("flexq-fq6-fuzz");
        try {
            FuzzCheck.check(Fq6Readers.fq6(scratch), 60, 1108, scratch);
        } finally {
            FuzzStats.deleteTree(scratch);
        }
    }
}
