package io.flexq.runtime.fuzz;

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
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertNotEquals;

/**
 * Property-based fuzzing of every runtime reader (issue 11): whatever edits (byte flips, boundary integers in the
 * header, truncation, duplicated or deleted runs, JSON tokens) are made to a real file, reading it is accepted or
 * ends in a clean error, never another exception, an Error, a hang, or a message with terminal controls. jqwik
 * shrinks a failing edit list to a minimal one and prints it with the seed. Bounded for CI (about a second or two
 * per reader on 2 cores); {@code tools/fuzz-readers.sh} runs the same targets for minutes.
 */
class ReaderFuzzTest {

    private static Path scratch;
    private static FuzzTarget gguf, llama2c, tokenizerBin, tokenizerJson, safetensors, configJson, chat;

    @BeforeContainer
    static void seeds() throws IOException {
        scratch = Files.createTempDirectory("flexq-fuzz");
        gguf = Readers.gguf();
        llama2c = Readers.llama2c();
        tokenizerBin = Readers.tokenizerBin();
        tokenizerJson = Readers.tokenizerJson();
        safetensors = Readers.safetensors(scratch);
        configJson = Readers.configJson(scratch);
        chat = Readers.chatInput();
    }

    @AfterContainer
    static void clean() throws IOException {
        try (Stream<Path> s = Files.walk(scratch)) {
            for (Path p : s.sorted(Comparator.reverseOrder()).toList()) Files.deleteIfExists(p);
        }
    }

    @Provide
    Arbitrary<List<Mutation>> edits() {
        Arbitrary<Mutation> one = Combinators.combine(
                Arbitraries.of(Mutation.Kind.class),
                Arbitraries.doubles().between(0, 1),
                Arbitraries.oneOf(Arbitraries.of(Mutation.INTERESTING.length == 0 ? new Long[] {0L} : box(Mutation.INTERESTING)),
                        Arbitraries.longs()),
                Arbitraries.integers().between(1, 4096)).as(Mutation::new);
        return one.list().ofMinSize(1).ofMaxSize(6);
    }

    private static Long[] box(long[] a) {
        Long[] b = new Long[a.length];
        for (int i = 0; i < a.length; i++) b[i] = a[i];
        return b;
    }

    private static void check(FuzzTarget t, List<Mutation> edits) throws IOException {
        Path dir = Files.createTempDirectory(scratch, "in");
        FuzzTarget.Result r = t.run(dir, Mutation.applyAll(t.seed(), edits));
        assertNotEquals(FuzzTarget.Outcome.OTHER, r.outcome(), () -> t.name() + ": " + r.detail());
    }

    @Property(tries = 60, seed = "1101", edgeCases = EdgeCasesMode.MIXIN)
    void gguf(@ForAll("edits") List<Mutation> edits) throws IOException {
        check(gguf, edits);
    }

    @Property(tries = 40, seed = "1102", edgeCases = EdgeCasesMode.MIXIN)
    void llama2cCheckpoint(@ForAll("edits") List<Mutation> edits) throws IOException {
        check(llama2c, edits);
    }

    @Property(tries = 150, seed = "1103", edgeCases = EdgeCasesMode.MIXIN)
    void tokenizerBin(@ForAll("edits") List<Mutation> edits) throws IOException {
        check(tokenizerBin, edits);
    }

    @Property(tries = 80, seed = "1104", edgeCases = EdgeCasesMode.MIXIN)
    void tokenizerJson(@ForAll("edits") List<Mutation> edits) throws IOException {
        check(tokenizerJson, edits);
    }

    @Property(tries = 100, seed = "1105", edgeCases = EdgeCasesMode.MIXIN)
    void safetensorsHeader(@ForAll("edits") List<Mutation> edits) throws IOException {
        check(safetensors, edits);
    }

    @Property(tries = 100, seed = "1106", edgeCases = EdgeCasesMode.MIXIN)
    void configJson(@ForAll("edits") List<Mutation> edits) throws IOException {
        check(configJson, edits);
    }

    @Property(tries = 150, seed = "1107", edgeCases = EdgeCasesMode.MIXIN)
    void chatTemplateInput(@ForAll("edits") List<Mutation> edits) throws IOException {
        check(chat, edits);
    }
}
