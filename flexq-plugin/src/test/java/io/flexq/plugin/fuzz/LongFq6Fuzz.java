package io.flexq.plugin.fuzz;

import io.flexq.runtime.fuzz.FuzzStats;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/** The long FQ6 fuzz run, off unless {@code -Dflexq.fuzz.seconds=N}; writes target/fuzz/fq6.md (tools/fuzz-readers.sh). */
@EnabledIfSystemProperty(named = "flexq.fuzz.seconds", matches = "[0-9.]+")
class LongFq6Fuzz {

    @Test
    void fuzzTheFq6Reader() throws Exception {
        Path scratch = Files.createTempDirectory("flexq-fq6-fuzz-long");
        Path out = Path.of("target", "fuzz");
        String table = FuzzStats.run(List.of(Fq6Readers.fq6(scratch)), Double.parseDouble(System.getProperty("flexq.fuzz.seconds")),
                Long.getLong("flexq.fuzz.seed", 2026), scratch, out.resolve("findings"));
        Files.createDirectories(out);
        Files.writeString(out.resolve("fq6.md"), table);
        System.out.println(table);
        FuzzStats.deleteTree(scratch);
    }
}
