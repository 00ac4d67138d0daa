package io.flexq.runtime.fuzz;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * Times again, alone and in a warm JVM, the slowest input of each runtime reader that the long fuzz run saved
 * ({@code slowest-*.bin}): the run's own longest time includes JIT warm-up and whatever else the machine ran.
 * Each reader first reads its seed 5 times, then the slowest input 5 times; the median is printed.
 *
 * <pre>java -cp runtime-adapter/target/classes:runtime-adapter/target/test-classes io.flexq.runtime.fuzz.SlowestInputs FINDINGS_DIR</pre>
 */
public final class SlowestInputs {

    private SlowestInputs() {
    }

    public static void main(String[] args) throws Exception {
        Path findings = Path.of(args[0]);
        Path scratch = Files.createTempDirectory("flexq-slowest");
        List<FuzzTarget> targets = List.of(Readers.gguf(), Readers.llama2c(), Readers.tokenizerBin(), Readers.tokenizerJson(),
                Readers.safetensors(scratch), Readers.configJson(scratch), Readers.chatInput());
        System.out.println("| reader | slowest input bytes | outcome | median of 5 reads, ms (warm JVM) |");
        System.out.println("|---|---:|---|---:|");
        for (FuzzTarget t : targets) {
            Path p = findings.resolve("slowest-" + t.name().replaceAll("[^A-Za-z0-9]+", "_") + ".bin");
            if (!Files.exists(p)) {
                continue;
            }
            byte[] input = Files.readAllBytes(p);
            for (int i = 0; i < 5; i++) {
                t.run(Files.createTempDirectory(scratch, "w"), t.seed());
            }
            long[] ns = new long[5];
            FuzzTarget.Outcome outcome = null;
            for (int i = 0; i < ns.length; i++) {
                FuzzTarget.Result r = t.run(Files.createTempDirectory(scratch, "s"), input);
                ns[i] = r.nanos();
                outcome = r.outcome();
            }
            Arrays.sort(ns);
            System.out.printf(Locale.ROOT, "| %s | %d | %s | %.1f |%n", t.name(), input.length, outcome, ns[2] / 1e6);
        }
        FuzzStats.deleteTree(scratch);
        System.exit(0); // the fuzz runner's threads are daemons, but the CPU backend's pool may not be
    }
}
