package io.flexq.samples.soak;

import io.flexq.runtime.gguf.GgufFile;
import io.flexq.runtime.llama.Generator;
import io.flexq.runtime.llama.Llama;
import io.flexq.runtime.llama.LlamaSession;
import io.flexq.runtime.model.ModelFile;
import io.flexq.runtime.sample.GreedySampler;
import io.flexq.runtime.tensor.BuiltinTypes;

import javax.management.ObjectName;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * The soak (issue 11): CYCLES load/forward/close cycles of a model (one token through every layer, so backend
 * thread pools start), then TOKENS generated tokens in sessions of at most the
 * model's context, printing heap used (after GC), RSS, native memory committed (NMT: run with
 * -XX:NativeMemoryTracking=summary), live threads, open file descriptors and mappings of the model file at the
 * start, every REPORT cycles, between the phases and at the end. Flat means: the end equals the start up to noise.
 *
 * <pre>java ... io.flexq.samples.soak.Soak MODEL CYCLES TOKENS</pre>
 */
public final class Soak {

    private Soak() {
    }

    public static void main(String[] args) throws Exception {
        Path model = Path.of(args[0]);
        int cycles = Integer.parseInt(args[1]);
        int tokens = Integer.parseInt(args[2]);
        ClassLoader loader = Soak.class.getClassLoader();
        var types = BuiltinTypes.registry(loader);
        System.out.println("| when | heap used MB | RSS MB | NMT committed MB | threads | open fds | mappings of the model |");
        System.out.println("|---|---:|---:|---:|---:|---:|---:|");
        print("start", model);
        // one load before measuring so that class loading and JIT are not counted as growth
        try (ModelFile f = GgufFile.open(model, types); Llama l = Llama.load(f, loader, s -> { })) {
            l.config();
        }
        print("after 1 warm-up load", model);
        for (int c = 1; c <= cycles; c++) {
            // a cycle is what one short command does: load, run one token through every layer, close
            try (ModelFile f = GgufFile.open(model, types); Llama l = Llama.load(f, loader, s -> { });
                 LlamaSession s = l.newSession(8)) {
                s.forward(new int[] {1}, 0, 1);
            }
            if (c % Math.max(1, cycles / 5) == 0) {
                print("after " + c + " load/forward/close cycles", model);
            }
        }
        int done = 0;
        try (ModelFile f = GgufFile.open(model, types); Llama l = Llama.load(f, loader, s -> { })) {
            int ctx = Math.min(l.config().contextLength(), 256);
            int report = Math.max(1, tokens / 5);
            int nextReport = report;
            while (done < tokens) {
                try (LlamaSession s = l.newSession(ctx)) {
                    int n = Math.min(ctx - 2, tokens - done);
                    Generator.Result r = Generator.generate(s, new int[] {1}, n, new GreedySampler(), java.util.Set.of(), t -> { });
                    done += r.tokens().length;
                }
                if (done >= nextReport) {
                    print("after " + done + " generated tokens", model);
                    nextReport += report;
                }
            }
        }
        print("end (model closed)", model);
    }

    private static void print(String when, Path model) throws Exception {
        for (int i = 0; i < 3; i++) {
            System.gc();
            Thread.sleep(100);
        }
        Runtime rt = Runtime.getRuntime();
        long heap = rt.totalMemory() - rt.freeMemory();
        System.out.printf(Locale.ROOT, "| %s | %.1f | %.1f | %s | %d | %d | %d |%n", when, heap / 1e6, status("VmRSS") / 1e3,
                nmtCommittedMb(), ManagementFactory.getThreadMXBean().getThreadCount(), count(Path.of("/proc/self/fd")),
                mappings(model));
    }

    private static long status(String key) throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
            if (line.startsWith(key + ":")) {
                return Long.parseLong(line.replaceAll("[^0-9]", ""));
            }
        }
        return -1;
    }

    private static long count(Path dir) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.count();
        }
    }

    private static long mappings(Path model) throws IOException {
        String name = model.toAbsolutePath().normalize().toString();
        try (Stream<String> lines = Files.lines(Path.of("/proc/self/maps"))) {
            return lines.filter(l -> l.endsWith(name)).count();
        }
    }

    /** "Total: reserved=..., committed=NNNKB" from the VM.native_memory diagnostic command, or "-" without NMT. */
    private static String nmtCommittedMb() {
        try {
            String out = (String) ManagementFactory.getPlatformMBeanServer().invoke(new ObjectName("com.sun.management:type=DiagnosticCommand"),
                    "vmNativeMemory", new Object[] {new String[] {"summary"}}, new String[] {String[].class.getName()});
            Matcher m = Pattern.compile("Total: reserved=\\d+KB, committed=(\\d+)KB").matcher(out);
            return m.find() ? String.format(Locale.ROOT, "%.1f", Long.parseLong(m.group(1)) / 1e3) : "-";
        } catch (Exception e) {
            return "-";
        }
    }
}
