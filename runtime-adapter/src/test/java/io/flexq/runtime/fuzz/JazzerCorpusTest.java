package io.flexq.runtime.fuzz;

import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.nio.file.Path;

/**
 * The runtime readers on the inputs the coverage-guided runs kept (tools/fuzz-jazzer.sh; see {@link JazzerCorpus}):
 * each must still be accepted or end in a clean error.
 */
@Timeout(120)
class JazzerCorpusTest {

    @ParameterizedTest
    @ValueSource(strings = {"gguf", "llama2c", "tokenizer-bin", "tokenizer-json", "safetensors", "config-json", "chat"})
    void committedInputsKeepTheContract(String reader, @TempDir Path scratch) throws IOException {
        JazzerCorpus.replay(JazzerCorpusTest.class, reader, JazzerReaders.target(reader, scratch));
    }
}
