package io.flexq.conformance.cli;

import io.flexq.conformance.BackendRoster;
import io.flexq.runtime.cli.Cli;
import io.flexq.runtime.cli.Main;
import io.flexq.runtime.cpu.CpuBackend;
import io.flexq.runtime.spi.ActivationBatch;
import io.flexq.runtime.spi.TensorType;
import io.flexq.runtime.spi.WeightBackend;
import io.flexq.runtime.spi.WeightMatrix;
import io.flexq.runtime.spi.WeightSource;
import io.flexq.runtime.tensor.FloatTypes;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.ForkJoinPool;
import java.util.function.Supplier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code flexq conformance}: passes with the backends of this machine (cpu, flexq-cpu), and fails a deliberately
 * broken backend with a message that says which check, how far off and where.
 */
class ConformanceCommandTest {

    record Run(int status, String out, String err) {
    }

    static Run run(Supplier<BackendRoster> roster, String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        Cli cli = new Cli(new ByteArrayInputStream(new byte[0]), new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8), false);
        List<io.flexq.runtime.cli.CommandProvider> providers = roster == null
                ? Main.discover(ConformanceCommandTest.class.getClassLoader())
                : List.of(c -> List.of(new ConformanceCommand(c, roster)));
        int status = Main.run(args, cli, providers);
        return new Run(status, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    /** The table row of (backend, type, variant), split into its cells. */
    static List<String> row(String table, String backend, String type, String variant) {
        String start = "| " + backend + " | " + type + " | " + variant + " |";
        String line = table.lines().filter(l -> l.startsWith(start)).findFirst()
                .orElseThrow(() -> new AssertionError("no row " + start + " in\n" + table));
        return List.of(line.substring(start.length(), line.length() - 1).split("\\|")).stream().map(String::strip).toList();
    }

    @Test
    void passesOnThisMachinesBackendsAndWritesTheReport(@TempDir Path dir) throws IOException {
        Path report = dir.resolve("conformance.md");
        Run r = run(null, "conformance", "--report", report.toString());
        assertEquals(0, r.status(), r.out() + r.err());
        assertFalse(r.out().contains("| FAIL") || r.out().contains("\nFAILURES\n"), r.out());
        // FlexQ's CPU backend implements W6A6 / W6A8 with integer partials equal to the golden ones
        for (String variant : List.of("W6A6", "W6A8")) {
            List<String> cells = row(r.out(), "flexq-cpu", "FQ6", variant);
            assertTrue(cells.get(0).startsWith("pass "), cells.toString());
            assertTrue(cells.get(1).startsWith("pass ") && cells.get(1).endsWith("P exact"), cells.toString());
        }
        // the runtime's CPU backend: F32 against llama.cpp end to end; FQ6 only as W6A16 (its A6/A8 are not implemented)
        List<String> f32 = row(r.out(), "cpu", "F32", "fp32 act");
        assertTrue(f32.get(0).startsWith("pass ") && f32.get(2).startsWith("pass "), f32.toString());
        assertEquals("n/i", row(r.out(), "cpu", "FQ6", "W6A8").get(1));
        String written = Files.readString(report);
        assertTrue(written.startsWith("# flexq conformance"), written);
        assertTrue(written.contains("- machine: ") && written.contains("- date: ") && written.contains("- command: `bin/flexq conformance"), written);
        assertTrue(written.contains(r.out()), "the report holds the table printed");
    }

    /** F32 through the CPU backend with the last input column ignored: a plausible indexing bug. */
    record DropsLastColumn(WeightBackend inner) implements WeightBackend {
        @Override public String name() { return "drops-last-column"; }
        @Override public int priority() { return 1; }
        @Override public Availability availability() { return Availability.yes("test double"); }
        @Override public boolean supports(TensorType type, int rows, int cols) { return type.id() == FloatTypes.F32.id(); }
        @Override public WeightMatrix load(WeightSource s) {
            WeightMatrix m = inner.load(s);
            return new WeightMatrix() {
                @Override public String name() { return m.name(); }
                @Override public int rows() { return m.rows(); }
                @Override public int cols() { return m.cols(); }
                @Override public String describe() { return "broken " + m.describe(); }
                @Override public void close() { m.close(); }
                @Override public void matmul(ActivationBatch in, ActivationBatch out) {
                    try (Arena arena = Arena.ofConfined()) {
                        ActivationBatch copy = ActivationBatch.allocate(arena, in.tokens(), in.dim());
                        MemorySegment.copy(in.data(), 0, copy.data(), 0, (long) in.tokens() * in.dim() * Float.BYTES);
                        for (int t = 0; t < in.tokens(); t++) {
                            copy.set(t, in.dim() - 1, 0f);
                        }
                        m.matmul(copy, out);
                    }
                }
            };
        }
    }

    @Test
    void aBrokenBackendFailsWithTheCheckTheErrorAndTheShape() {
        WeightBackend broken = new DropsLastColumn(new CpuBackend(new ForkJoinPool(1)));
        Run r = run(() -> BackendRoster.of(List.of(broken)), "conformance");
        assertEquals(1, r.status(), r.out() + r.err());
        List<String> cells = row(r.out(), "drops-last-column", "F32", "fp32 act");
        assertTrue(cells.get(0).startsWith("FAIL "), cells.toString());
        assertTrue(cells.get(2).startsWith("FAIL "), "stories260K through it must miss llama.cpp's logits: " + cells);
        assertTrue(r.out().contains("\nFAILURES\n"), r.out());
        String matmul = r.out().lines().filter(l -> l.startsWith("- drops-last-column / F32 / fp32 act / matmul: ")).findFirst()
                .orElseThrow(() -> new AssertionError(r.out()));
        assertTrue(matmul.contains("failed; worst |e|/bound") && matmul.contains("seed") && matmul.contains(" x "), matmul);
        assertTrue(r.out().contains("- drops-last-column / F32 / fp32 act / end-to-end: stories260K logits after BOS vs llama.cpp"), r.out());
        // the types it does not claim are "not implemented", never passed
        assertEquals("n/i", row(r.out(), "drops-last-column", "Q8_0", "-").get(0));
    }

    @Test
    void anUnknownBackendIsACommandLineError() {
        Run r = run(null, "conformance", "--backend", "no-such-backend");
        assertEquals(2, r.status());
        assertTrue(r.err().startsWith("flexq conformance: error: --backend: no backend named 'no-such-backend'; found: ["), r.err());
        assertEquals(1, r.err().lines().count(), r.err());
    }
}
