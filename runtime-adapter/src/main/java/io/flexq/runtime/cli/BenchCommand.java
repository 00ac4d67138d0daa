package io.flexq.runtime.cli;

import io.flexq.runtime.llama.Llama;
import io.flexq.runtime.llama.LlamaConfig;
import io.flexq.runtime.llama.PromptProfile;
import io.flexq.runtime.cpu.SpinTeam;
import io.flexq.runtime.llama.Throughput;
import io.flexq.runtime.model.ModelFile;
import io.flexq.runtime.model.ModelFiles;
import io.flexq.runtime.model.ModelShape;
import io.flexq.runtime.model.SyntheticModel;
import io.flexq.runtime.model.TensorEntry;
import io.flexq.runtime.spi.TensorType;
import io.flexq.runtime.tensor.BuiltinTypes;
import io.flexq.runtime.tensor.FloatTypes;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;

import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;
import java.util.stream.Collectors;

/**
 * {@code flexq bench}: prefill and decode tokens/s of a model file or of a synthetic model at a real shape. Warm-up
 * passes first (the JIT compiles the kernels), then measured passes; stdout gets one Markdown table row set with the
 * median and the range over the measured passes, stderr the per-pass times. A benchmark, not a test: nothing is
 * compared with a threshold.
 */
final class BenchCommand {

    /** Largest --batch (sequences decoded together). */
    static final int MAX_BATCH = 64;

    static CommandSpec spec(Cli cli) {
        List<OptionSpec> options = List.of(
                CommandSpecs.value("model", "PATH", "GGUF, llama2.c .bin or safetensors model (default: bundled stories260K.bin),"
                        + " benchmarked in the types it stores"),
                CommandSpecs.value("synthetic", "SHAPE", "a model with random weights at a real shape, built in memory: "
                        + ModelShape.presets().stream().map(ModelShape::name).collect(Collectors.joining(", "))),
                CommandSpecs.value("type", "T", "weight type of --synthetic: " + BuiltinTypes.all().stream()
                        .map(t -> t.name().toLowerCase(Locale.ROOT)).collect(Collectors.joining(", ")) + " (default f32); norms stay F32"),
                DeviceOption.option(),
                KvCacheOption.option(),
                CommandSpecs.value("batch", "N", "sequences decoded together, 1.." + MAX_BATCH + " (default 1)"),
                CommandSpecs.value("prompt-tokens", "N", "prefill length (default 128)"),
                CommandSpecs.value("decode-tokens", "N", "tokens decoded after the prompt (default 32)"),
                CommandSpecs.value("warmup", "N", "unmeasured runs first (default 1)"),
                CommandSpecs.value("runs", "N", "measured runs (default 3)"),
                CommandSpecs.value("threads", "N", "matmul threads: the CPU backend gets its own pool of N (default: every processor,"
                        + " or -Dflexq.threads)"),
                CommandSpecs.value("seed", "S", "seed of the prompt and the synthetic weights (default 1)"));
        return CommandSpecs.command("bench", "", "prefill and decode tokens/s of a model, or of a random-weight model at a real shape",
                """
                Times prefill (the prompt as one batch) and decode (one token at a time) on the CPU and prints a Markdown
                table: median tokens/s over the measured runs, and their range. Prompt tokens are random ids; decode feeds
                back the argmax. The blocks run on the host (no decoder offload).
                Memory: a synthetic model takes its parameter count x bytes per weight of native memory (Llama 3.2 1B:
                4.9 GB in F32, 1.3 GB in Q8_0), outside the Java heap.
                """, options, false, parsed -> run(Flags.of(parsed), cli.out(), cli.err(), cli));
    }

    static final String TABLE_HEADER = """
            | model | weights | backend | threads | prompt | decode | runs | prefill tok/s median [min, max] | decode tok/s median [min, max] | weight bytes |
            |---|---|---|---:|---:|---:|---:|---:|---:|---:|
            """;

    private BenchCommand() {
    }

    static int run(Flags f, PrintStream out, PrintStream err, Cli cli) {
        Consumer<String> everyLine = cli.diagnostics();
        // each pass opens a session: say a warning (e.g. a context past the trained one) once, not once per pass
        Set<String> said = new HashSet<>();
        Consumer<String> log = line -> {
            if (said.add(line)) {
                everyLine.accept(line);
            }
        };
        if (f.has("model") && f.has("synthetic")) {
            throw new UsageException("give --model or --synthetic, not both");
        }
        if (f.has("type") && !f.has("synthetic")) {
            throw new UsageException("--type applies to --synthetic; a model file is benchmarked in the types it stores");
        }
        int promptTokens = f.integer("prompt-tokens", 1).orElse(128);
        int decodeTokens = f.integer("decode-tokens", 0).orElse(32);
        int warmup = f.integer("warmup", 0).orElse(1);
        int runs = f.integer("runs", 1).orElse(3);
        long seed = f.longValue("seed").orElse(1L);
        Integer threadCount = f.integer("threads", 1).orElse(null);
        int batch = f.integer("batch", 1, MAX_BATCH).orElse(1);
        String device = DeviceOption.apply(f.text(DeviceOption.NAME));
        KvCacheOption.apply(f.text(KvCacheOption.NAME));
        ModelShape shape = f.text("synthetic").map(BenchCommand::shape).orElse(null);
        TensorType type = f.text("type").map(BenchCommand::type).orElse(null);
        if ((long) promptTokens + decodeTokens > Integer.MAX_VALUE / 2) {
            throw new UsageException("--prompt-tokens + --decode-tokens is too large");
        }

        long start = System.nanoTime();
        String label;
        ModelFile file;
        if (shape != null) {
            TensorType t = type != null ? type : FloatTypes.F32;
            label = "synthetic " + shape.name();
            checkMemory(shape, t, err);
            err.printf(Locale.ROOT, "generating %s, %s weights, seed %d...%n", shape, t.name(), seed);
            file = SyntheticModel.create(shape, t, seed);
        } else {
            Path model = f.text("model").map(Path::of).orElseGet(() -> FlexqHome.find().resolve(FlexqHome.DEFAULT_MODEL));
            label = model.getFileName().toString();
            file = ModelFiles.open(model, BuiltinTypes.registry(BenchCommand.class.getClassLoader()));
        }
        try (file; CpuThreads threads = CpuThreads.of(threadCount, BenchCommand.class.getClassLoader(), log);
             Llama llama = Llama.load(file, threads.backends(), Llama.offloads(BenchCommand.class.getClassLoader()), log)) {
            LlamaConfig c = llama.config();
            err.printf(Locale.ROOT, "ready in %.1f s: %s, %s%n", (System.nanoTime() - start) / 1e9, file.path(), c);
            int[] prompt = Throughput.randomPrompt(promptTokens, c.vocabSize(), seed);
            List<Throughput.Measurement> measured = new ArrayList<>();
            for (int i = 0; i < warmup + runs; i++) {
                System.gc(); // garbage of the previous pass is collected here, not inside the next one's timing
                // batch > 1: that many sequences decoded together (one batch per matmul on a device; one after the other on the CPU)
                Throughput.Measurement m = Throughput.measureBatch(llama, prompt, decodeTokens, batch, seed);
                boolean warm = i < warmup;
                err.printf(Locale.ROOT, "%s %d/%d: prefill %d tokens in %.3f s (%.2f tok/s), decode %d tokens in %.3f s (%.2f tok/s)%n",
                        warm ? "warm-up" : "run", warm ? i + 1 : i - warmup + 1, warm ? warmup : runs,
                        m.promptTokens(), m.prefillNanos() / 1e9, m.prefillTokensPerSecond(),
                        m.decodeTokens(), m.decodeNanos() / 1e9, m.decodeTokensPerSecond());
                if (!m.finiteLogits()) {
                    cli.warning("some logits were NaN or infinite (the timings stand; the weights overflow)");
                }
                if (!warm) {
                    measured.add(m);
                } else if (i == warmup - 1 && PromptProfile.enabled()) {
                    PromptProfile.reset();
                    SpinTeam.counts(true);
                }
            }
            String backend = llama.onDevice() ? llama.describe().getFirst().replaceFirst("^model: ", "").split(",")[0] + " (whole model on the device)"
                    : threads.backendOf(file);
            if (batch > 1) {
                label += ", batch " + batch + (llama.onDevice() ? "" : " (sequences one after the other on the CPU)");
            }
            out.print(TABLE_HEADER);
            out.printf(Locale.ROOT, "| %s | %s | %s | %d | %d | %d | %d | %s | %s | %,d |%n", label, weightTypes(file), backend,
                    threads.count(), promptTokens, decodeTokens, runs,
                    summary(measured.stream().mapToDouble(Throughput.Measurement::prefillTokensPerSecond).toArray()),
                    decodeTokens == 0 ? "-" : summary(measured.stream().mapToDouble(Throughput.Measurement::decodeTokensPerSecond).toArray()),
                    weightBytes(file));
            out.flush();
            if (PromptProfile.enabled()) {
                err.print(PromptProfile.table());
                err.println(SpinTeam.counts(false));
            }
            cli.info(threads.backends().summary());
            return 0;
        }
    }

    /**
     * Refuses a synthetic model larger than the machine's physical memory (the kernel would kill this process, or
     * another, when the pages are touched) and warns when it is larger than the memory free now.
     */
    private static void checkMemory(ModelShape shape, TensorType type, PrintStream err) {
        long needed;
        try {
            needed = SyntheticModel.byteSize(shape, type);
        } catch (IllegalArgumentException e) {
            throw new UsageException("--type " + type.name().toLowerCase(Locale.ROOT) + ": " + e.getMessage());
        }
        if (!(java.lang.management.ManagementFactory.getOperatingSystemMXBean()
                instanceof com.sun.management.OperatingSystemMXBean os)) {
            return;
        }
        long total = os.getTotalMemorySize();
        long free = os.getFreeMemorySize();
        if (needed > total) {
            throw new UsageException(String.format(Locale.ROOT, "--synthetic %s in %s needs %.1f GB of memory; this machine has %.1f GB"
                    + " (try --type q8_0 or q4_0, or a smaller shape)", shape.name(), type.name(), needed / 1e9, total / 1e9));
        }
        if (needed > free) {
            err.printf(Locale.ROOT, "warning: %s in %s needs %.1f GB and %.1f GB is free now; the system may swap or kill a process%n",
                    shape.name(), type.name(), needed / 1e9, free / 1e9);
        }
    }

    private static ModelShape shape(String name) {
        try {
            return ModelShape.named(name);
        } catch (IllegalArgumentException e) {
            throw new UsageException("--synthetic: " + e.getMessage());
        }
    }

    private static TensorType type(String name) {
        for (TensorType t : BuiltinTypes.all()) {
            if (t.name().equalsIgnoreCase(name.trim())) {
                return t;
            }
        }
        throw new UsageException("--type: unknown weight type '" + name + "'; known: "
                + BuiltinTypes.all().stream().map(t -> t.name().toLowerCase(Locale.ROOT)).toList());
    }

    /** "median [min, max]", with significant digits that suit the magnitude. */
    static String summary(double[] values) {
        double[] v = values.clone();
        Arrays.sort(v);
        int n = v.length;
        double median = n % 2 == 1 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
        return format(median) + " [" + format(v[0]) + ", " + format(v[n - 1]) + "]";
    }

    private static String format(double x) {
        return String.format(Locale.ROOT, x >= 100 ? "%.0f" : x >= 10 ? "%.1f" : "%.2f", x);
    }

    /** The storage types of the 2-D tensors, by bytes held, largest first: "Q8_0+F16". */
    static String weightTypes(ModelFile file) {
        Map<String, Long> bytes = new LinkedHashMap<>();
        for (TensorEntry t : file.tensors().values()) {
            if (t.ne().length >= 2 && t.rows() > 1) {
                bytes.merge(t.type().name(), t.data().byteSize(), Long::sum);
            }
        }
        return bytes.entrySet().stream().sorted(Map.Entry.<String, Long>comparingByValue().reversed())
                .map(Map.Entry::getKey).collect(Collectors.joining("+"));
    }

    /** Bytes of every tensor the file holds (a tied head counted once; a stored copy of it counted again). */
    static long weightBytes(ModelFile file) {
        return file.tensors().values().stream().mapToLong(t -> t.data().byteSize()).sum();
    }
}
