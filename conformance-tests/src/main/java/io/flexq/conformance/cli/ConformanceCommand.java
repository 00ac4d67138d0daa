package io.flexq.conformance.cli;

import io.flexq.conformance.BackendRoster;
import io.flexq.conformance.ConformanceRun;
import io.flexq.conformance.ConformanceTable;
import io.flexq.conformance.GoldenVectors;
import io.flexq.conformance.MatmulConformance;
import io.flexq.runtime.cli.Cli;
import io.flexq.runtime.cli.CommandException;
import io.flexq.runtime.cli.FlexqHome;
import io.flexq.runtime.cli.UsageException;
import io.flexq.runtime.spi.TensorTypes;
import io.flexq.runtime.tensor.BuiltinTypes;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.function.Supplier;

/**
 * {@code flexq conformance}: the conformance kit against every weight backend on the class path (or one), as a
 * table of types x checks. Exit status 1 when any check fails.
 */
@Command(name = "conformance", sortOptions = false, synopsisHeading = "usage: ",
        customSynopsis = "flexq conformance [flags]",
        description = {
                "run the conformance kit against every backend found (or one): a table of types x checks",
                "",
                "Checks per backend, type and variant: matmul (random weights at 36-45 shapes against a float64 product",
                "within the type's error model; the cell is the worst |e|/bound), golden (FQ6: the golden vectors of",
                "docs/FQ6.md, integer partials bit exact where the matrix reports them) and end-to-end (F32: stories260K",
                "logits after BOS against llama.cpp's). pass, FAIL, n/i (not implemented: the backend does not support it,",
                "or runs it in another mode) or - (not applicable). Each failure is listed with its worst error.",
                "Exit status 1 when any check fails."},
        optionListHeading = "%nflags:%n")
public final class ConformanceCommand implements Callable<Integer> {

    @Option(names = "--backend", paramLabel = "NAME", description = "check only this backend (default: every backend found)")
    String backend;

    @Option(names = "--report", paramLabel = "FILE", description = "also write the table (Markdown, with machine, date and command) to FILE")
    Path report;

    @Option(names = "--model", paramLabel = "PATH", description = "the llama2.c stories260K.bin of the end-to-end check (default: the bundled one)")
    Path model;

    @Option(names = "--seed", paramLabel = "N", description = "base seed of the random matmul shapes (default "
            + MatmulConformance.DEFAULT_SEED + ")")
    String seed;

    private final Cli cli;
    private final Supplier<BackendRoster> roster;

    /** Every backend {@link java.util.ServiceLoader} finds. */
    public ConformanceCommand(Cli cli) {
        this(cli, () -> BackendRoster.discover(ConformanceCommand.class.getClassLoader()));
    }

    /** The given backends (a backend author's own instance, a test's broken one). */
    public ConformanceCommand(Cli cli, Supplier<BackendRoster> roster) {
        this.cli = cli;
        this.roster = roster;
    }

    @Override
    public Integer call() throws IOException {
        long baseSeed = parseSeed();
        BackendRoster all = roster.get();
        BackendRoster chosen = all;
        if (backend != null) {
            List<BackendRoster.Entry> one = all.entries().stream().filter(e -> e.name().equals(backend)).toList();
            if (one.isEmpty()) {
                throw new UsageException("--backend: no backend named '" + backend + "'; found: "
                        + all.entries().stream().map(BackendRoster.Entry::name).toList());
            }
            chosen = new BackendRoster(one);
        }
        if (report != null && report.toAbsolutePath().getParent() != null && !Files.isDirectory(report.toAbsolutePath().getParent())) {
            throw new CommandException("--report: no such folder: " + report.toAbsolutePath().getParent());
        }
        ClassLoader loader = ConformanceCommand.class.getClassLoader();
        TensorTypes types = BuiltinTypes.registry(loader);
        ConformanceRun run = new ConformanceRun(types, new MatmulConformance(io.flexq.conformance.TypeEncoders.standard(), baseSeed),
                GoldenVectors.load(), stories(), line -> cli.info("checking " + line));
        ConformanceTable table = run.run(chosen);
        String text = table.markdown();
        cli.out().print(text);
        cli.out().flush();
        if (report != null) {
            writeReport(text, baseSeed);
        }
        return table.failed() ? 1 : 0;
    }

    private long parseSeed() {
        if (seed == null) {
            return MatmulConformance.DEFAULT_SEED;
        }
        try {
            return Long.decode(seed.trim());
        } catch (NumberFormatException e) {
            throw new UsageException("--seed expects a whole number, got '" + seed + "'");
        }
    }

    private Optional<Path> stories() {
        if (model != null) {
            if (!Files.isRegularFile(model)) {
                throw new CommandException("--model: no such file: " + model);
            }
            return Optional.of(model);
        }
        try {
            return Optional.of(FlexqHome.find().resolve(FlexqHome.DEFAULT_MODEL));
        } catch (CommandException e) {
            return Optional.empty();
        }
    }

    private void writeReport(String table, long baseSeed) throws IOException {
        String header = "# flexq conformance\n\n"
                + "- machine: " + machine() + "\n"
                + "- date: " + Instant.now() + "\n"
                + "- command: `bin/flexq conformance" + (backend == null ? "" : " --backend " + backend)
                + (seed == null ? "" : " --seed " + seed) + " --report " + report + "`\n"
                + "- base seed: " + baseSeed + "\n\n";
        Path tmp = report.resolveSibling(report.getFileName() + ".tmp");
        Files.writeString(tmp, header + table, StandardCharsets.UTF_8);
        Files.move(tmp, report, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }

    private static String machine() {
        String cpu = "";
        try {
            cpu = Files.readAllLines(Path.of("/proc/cpuinfo")).stream().filter(l -> l.startsWith("model name"))
                    .map(l -> l.substring(l.indexOf(':') + 1).strip() + ", ").findFirst().orElse("");
        } catch (IOException | RuntimeException e) {
            // not Linux: the OS line below still says what ran
        }
        return cpu + System.getProperty("os.name") + " " + System.getProperty("os.arch") + ", " + Runtime.getRuntime().availableProcessors()
                + " cores, Java " + System.getProperty("java.version") + " (" + System.getProperty("java.vm.name") + ")";
    }
}
