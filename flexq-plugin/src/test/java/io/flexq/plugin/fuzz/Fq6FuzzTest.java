package io.flexq.plugin.fuzz;

import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.EdgeCasesMode;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.lifecycle.AfterContainer;
import net.jqwik.api.lifecycle.BeforeContainer;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertNotEquals;

/** Property-based fuzzing of the FQ6 reader (issue 11); see the runtime's ReaderFuzzTest for the contract. */
class Fq6FuzzTest {

    private static Path scratch;
    private static FuzzTarget fq6;

    @BeforeContainer
    static void seed() throws IOException {
        scratch = Files.createTempDirectory("flexq-fq6-fuzz");
        fq6 = Fq6Readers.fq6(scratch);
    }

    @AfterContainer
    static void clean() throws IOException {
        FuzzStats.deleteTree(scratch);
    }

    @Provide
    Arbitrary<List<Mutation>> edits() {
        Long[] interesting = new Long[Mutation.INTERESTING.length];
        for (int i = 0; i < interesting.length; i++) interesting[i] = Mutation.INTERESTING[i];
        return Combinators.combine(Arbitraries.of(Mutation.Kind.class), Arbitraries.doubles().between(0, 1),
                        Arbitraries.oneOf(Arbitraries.of(interesting), Arbitraries.longs()), Arbitraries.integers().between(1, 4096))
                .as(Mutation::new).list().ofMinSize(1).ofMaxSize(6);
    }

    @Property(tries = 60, seed = "1108", edgeCases = EdgeCasesMode.MIXIN)
    void fq6File(@ForAll("edits") List<Mutation> edits) throws IOException {
        FuzzTarget.Result r = fq6.run(Files.createTempDirectory(scratch, "in"), Mutation.applyAll(fq6.seed(), edits));
        assertNotEquals(FuzzTarget.Outcome.OTHER, r.outcome(), () -> fq6.name() + ": " + r.detail());
    }
}
