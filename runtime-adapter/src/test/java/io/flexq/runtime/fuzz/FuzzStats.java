package io.flexq.runtime.fuzz;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * The long fuzz run: random edit lists (1 to 6 {@link Mutation}s, seeded) on each target for a fixed time, counting
 * outcomes, time per input and the longest read of an input under 10 MB; inputs with outcome OTHER, and the
 * slowest input per target, are saved.
 * Writes one markdown table row per target.
 */
public final class FuzzStats {

    private FuzzStats() {
    }

    public static String run(List<FuzzTarget> targets, double seconds, long seed, Path scratch, Path findings) throws IOException {
        StringBuilder md = new StringBuilder("| reader | inputs | accepted | clean error | other | mean ms/input | longest read < 10 MB (ms) |\n"
                + "|---|---:|---:|---:|---:|---:|---:|\n");
        List<String> others = new ArrayList<>();
        for (FuzzTarget t : targets) {
            SplittableRandom rnd = new SplittableRandom(seed ^ t.name().hashCode());
            Map<FuzzTarget.Outcome, Integer> counts = new LinkedHashMap<>();
            for (FuzzTarget.Outcome o : FuzzTarget.Outcome.values()) counts.put(o, 0);
            long total = 0, longest = 0;
            int n = 0;
            long end = System.nanoTime() + (long) (seconds * 1e9);
            while (System.nanoTime() < end) {
                List<Mutation> edits = new ArrayList<>();
                for (int k = 1 + rnd.nextInt(6); k > 0; k--) edits.add(Mutation.random(rnd));
                byte[] input = Mutation.applyAll(t.seed(), edits);
                Path dir = Files.createTempDirectory(scratch, "in");
                FuzzTarget.Result r = t.run(dir, input);
                counts.merge(r.outcome(), 1, Integer::sum);
                total += r.nanos();
                if (input.length < 10 << 20 && r.nanos() > longest) {
                    longest = r.nanos();
                    // kept so the slowest input can be timed again alone (the run shares the machine)
                    Files.createDirectories(findings);
                    Files.write(findings.resolve("slowest-" + t.name().replaceAll("[^A-Za-z0-9]+", "_") + ".bin"), input);
                }
                if (r.outcome() == FuzzTarget.Outcome.OTHER) {
                    Files.createDirectories(findings);
                    Path saved = Files.write(findings.resolve(t.name().replaceAll("[^A-Za-z0-9]+", "_") + "-" + n + ".bin"), input);
                    others.add(t.name() + " (" + saved.getFileName() + "): " + r.detail());
                }
                deleteTree(dir);
                n++;
            }
            md.append(String.format(Locale.ROOT, "| %s | %d | %d | %d | %d | %.2f | %.0f |%n", t.name(), n,
                    counts.get(FuzzTarget.Outcome.ACCEPTED), counts.get(FuzzTarget.Outcome.CLEAN_ERROR),
                    counts.get(FuzzTarget.Outcome.OTHER), n == 0 ? 0 : total / 1e6 / n, longest / 1e6));
        }
        if (!others.isEmpty()) {
            md.append("\nOther outcomes:\n\n");
            others.stream().limit(40).forEach(o -> md.append("- ").append(o).append('\n'));
        }
        return md.toString();
    }

    public static void deleteTree(Path dir) throws IOException {
        try (var s = Files.walk(dir)) {
            for (Path p : s.sorted(java.util.Comparator.reverseOrder()).toList()) Files.deleteIfExists(p);
        }
    }
}
