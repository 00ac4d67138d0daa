package io.flexq.plugin.fuzz;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.fail;

/** A copy of the runtime test harness of the same name (test classes are not shared between modules).
 *
 * The CI form of the fuzz property: {@code tries} edit lists (1 to 6 {@link Mutation}s each) drawn from a seeded
 * random; the first input with outcome OTHER is shrunk (edits dropped one at a time while the outcome stays OTHER)
 * and reported with the seed, the try and the remaining edits, so it can be replayed.
 */
public final class FuzzCheck {

    private FuzzCheck() {
    }

    public static void check(FuzzTarget t, int tries, long seed, Path scratch) throws IOException {
        SplittableRandom rnd = new SplittableRandom(seed);
        for (int i = 0; i < tries; i++) {
            List<Mutation> edits = new ArrayList<>();
            for (int k = 1 + rnd.nextInt(6); k > 0; k--) edits.add(Mutation.random(rnd));
            FuzzTarget.Result r = run(t, edits, scratch);
            if (r.outcome() == FuzzTarget.Outcome.OTHER) {
                List<Mutation> minimal = shrink(t, edits, scratch);
                fail(t.name() + ", seed " + seed + ", try " + i + ": " + run(t, minimal, scratch).detail()
                        + "\nminimal edits: " + minimal);
            }
        }
    }

    private static List<Mutation> shrink(FuzzTarget t, List<Mutation> edits, Path scratch) throws IOException {
        List<Mutation> current = new ArrayList<>(edits);
        for (int i = current.size() - 1; i >= 0 && current.size() > 1; i--) {
            List<Mutation> fewer = new ArrayList<>(current);
            fewer.remove(i);
            if (run(t, fewer, scratch).outcome() == FuzzTarget.Outcome.OTHER) {
                current = fewer;
            }
        }
        return current;
    }

    private static FuzzTarget.Result run(FuzzTarget t, List<Mutation> edits, Path scratch) throws IOException {
        Path dir = Files.createTempDirectory(scratch, "in");
        try {
            return t.run(dir, Mutation.applyAll(t.seed(), edits));
        } finally {
            FuzzStats.deleteTree(dir);
        }
    }
}
