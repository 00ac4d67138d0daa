package io.flexq.plugin.fuzz;

import io.flexq.runtime.fuzz.FuzzStats;
import io.flexq.runtime.fuzz.JazzerCorpus;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.nio.file.Files;
import java.nio.file.Path;

/** The FQ6 reader on the inputs the coverage-guided runs kept (tools/fuzz-jazzer.sh fq6; see {@link JazzerCorpus}). */
@Timeout(120)
class JazzerFq6CorpusTest {

    @Test
    void committedInputsKeepTheContract() throws Exception {
        Path scratch = Files.createTempDirectory("flexq-fq6-corpus");
        try {
            JazzerCorpus.replay(JazzerFq6CorpusTest.class, "fq6", Fq6Readers.fq6(scratch));
        } finally {
            FuzzStats.deleteTree(scratch);
        }
    }
}
