package io.flexq.runtime.fuzz;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * The long fuzz run of the runtime readers, off unless {@code -Dflexq.fuzz.seconds=N} (seconds per reader); run by
 * {@code tools/fuzz-readers.sh}. Writes target/fuzz/runtime.md and saves inputs with outcome OTHER to target/fuzz/findings.
 */
@EnabledIfSystemProperty(named = "flexq.fuzz.seconds", matches = "[0-9.]+")
class LongReaderFuzz {

    @Test
    void fuzzEveryReader() throws Exception {
        double seconds = Double.parseDouble(System.getProperty("flexq.fuzz.seconds"));
        long seed = Long.getLong("flexq.fuzz.seed", 2026);
        Path scratch = Files.createTempDirectory("flexq-fuzz-long");
        Path out = Path.of("target", "fuzz");
        List<FuzzTarget> targets = List.of(Readers.gguf(), Readers.llama2c(), Readers.tokenizerBin(), Readers.tokenizerJson(),
                Readers.safetensors(scratch), Readers.configJson(scratch), Readers.chatInput());
        String table = FuzzStats.run(targets, seconds, seed, scratch, out.resolve("findings"));
        Files.createDirectories(out);
        Files.writeString(out.resolve("runtime.md"), table);
        System.out.println(table);
        FuzzStats.deleteTree(scratch);
    }
}
