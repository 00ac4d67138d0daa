package io.flexq.plugin.cli;

import io.flexq.plugin.fq6.Fq6Keys;
import io.flexq.runtime.gguf.GgufFile;
import io.flexq.runtime.model.Untrusted;
import io.flexq.runtime.model.ModelFile;
import io.flexq.runtime.model.TensorEntry;

import java.io.PrintStream;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * {@code flexq inspect FILE}: what a model file holds: format, metadata (long arrays abbreviated), the tensor
 * table with types, shapes, sizes and bits per weight, and for FQ6 files each linear layer's activation mode.
 */
public final class InspectCommand implements Command {

    private static final int ARRAY_HEAD = 6;

    @Override
    public String name() {
        return "inspect";
    }

    @Override
    public String summary() {
        return "show a model file's metadata, tensor table, sizes and bits per weight";
    }

    @Override
    public String synopsis() {
        return "FILE";
    }

    @Override
    public List<Flag> flags() {
        return List.of(Flag.bool("full", "print long arrays whole"));
    }

    @Override
    public int run(Args args, Console console) throws Exception {
        args.expectPositional(1, 1, synopsis());
        boolean full = args.has("full");
        try (ModelFile model = ModelLoading.open(args.positional(0), "FILE")) {
            PrintStream out = console.out();
            long fileBytes = Files.isRegularFile(model.path()) ? Files.size(model.path()) : -1;
            String header = model instanceof GgufFile g ? "gguf v" + g.version() + ", alignment " + g.alignment() : model.format();
            out.printf(Locale.ROOT, "%s: %s%s%n", model.path(), header, fileBytes >= 0 ? String.format(Locale.ROOT, ", %,d bytes", fileBytes) : "");

            Map<String, Object> md = model.metadata().asMap();
            out.printf(Locale.ROOT, "%nmetadata (%d keys):%n", md.size());
            int keyWidth = Math.min(48, md.keySet().stream().mapToInt(String::length).max().orElse(10));
            for (var e : md.entrySet()) {
                String type = model instanceof GgufFile g ? g.typeOf(e.getKey()).toString() : e.getValue().getClass().getSimpleName();
                out.printf(Locale.ROOT, "  %-" + keyWidth + "s  %-8s %s%n", Untrusted.escape(e.getKey(), 120), type, render(e.getValue(), full));
            }

            out.printf(Locale.ROOT, "%ntensors (%d):%n", model.tensors().size());
            int nameWidth = Math.min(64, model.tensors().keySet().stream().mapToInt(String::length).max().orElse(10));
            out.printf(Locale.ROOT, "  %-" + nameWidth + "s  %-6s %-14s %12s %7s  %s%n", "name", "type", "shape (ne)", "bytes", "bpw", "act");
            Map<String, long[]> byType = new TreeMap<>(); // type -> {tensors, elements, bytes}
            long totalElements = 0, totalBytes = 0;
            for (TensorEntry t : model.tensors().values()) {
                long bytes = t.data().byteSize();
                long n = t.elementCount();
                Object act = md.get(Fq6Keys.ACT_BITS + t.name());
                out.printf(Locale.ROOT, "  %-" + nameWidth + "s  %-6s %-14s %,12d %7.3f  %s%n", Untrusted.escape(t.name(), 120), t.type().name(), shape(t.ne()),
                        bytes, bpw(bytes, n), act == null ? "" : "A" + act);
                long[] acc = byType.computeIfAbsent(t.type().name(), k -> new long[3]);
                acc[0]++;
                acc[1] += n;
                acc[2] += bytes;
                totalElements += n;
                totalBytes += bytes;
            }
            out.printf(Locale.ROOT, "%nby type:%n");
            for (var e : byType.entrySet()) {
                long[] a = e.getValue();
                out.printf(Locale.ROOT, "  %-6s %4d tensors %,14d weights %,14d bytes  %7.3f bits/weight%n", e.getKey(), a[0], a[1], a[2], bpw(a[2], a[1]));
            }
            out.printf(Locale.ROOT, "  total  %4d tensors %,14d weights %,14d bytes  %7.3f bits/weight%n", model.tensors().size(),
                    totalElements, totalBytes, bpw(totalBytes, totalElements));
            printModes(out, md);
        }
        return 0;
    }

    private static void printModes(PrintStream out, Map<String, Object> md) {
        Map<String, Integer> counts = new TreeMap<>();
        for (var e : md.entrySet()) {
            if (e.getKey().startsWith(Fq6Keys.ACT_BITS)) {
                counts.merge("A" + e.getValue(), 1, Integer::sum);
            }
        }
        if (!counts.isEmpty()) {
            List<String> parts = new ArrayList<>();
            counts.forEach((k, v) -> parts.add(v + " x " + k));
            out.printf(Locale.ROOT, "%nFlexQ activation modes: %s (preset %s)%n", String.join(", ", parts), md.getOrDefault(Fq6Keys.PRESET, "?"));
        }
    }

    static double bpw(long bytes, long elements) {
        return elements == 0 ? 0 : 8.0 * bytes / elements;
    }

    static String shape(long[] ne) {
        StringBuilder sb = new StringBuilder("[");
        for (int i = 0; i < ne.length; i++) {
            sb.append(i == 0 ? "" : ", ").append(ne[i]);
        }
        return sb.append(']').toString();
    }

    /** A metadata value on one line; arrays longer than a few elements show their head and the count left. */
    static String render(Object v, boolean full) {
        if (v == null) {
            return "null";
        }
        if (v instanceof String s) {
            return quote(s, full ? Untrusted.MAX_MESSAGE : 120);
        }
        List<String> items = switch (v) {
            case int[] a -> java.util.Arrays.stream(a).mapToObj(String::valueOf).toList();
            case long[] a -> java.util.Arrays.stream(a).mapToObj(String::valueOf).toList();
            case float[] a -> floats(a);
            case double[] a -> java.util.Arrays.stream(a).mapToObj(String::valueOf).toList();
            case boolean[] a -> booleans(a);
            case String[] a -> java.util.Arrays.stream(a).map(x -> quote(x, 40)).toList();
            case Object[] a -> java.util.Arrays.stream(a).map(x -> render(x, full)).toList();
            default -> null;
        };
        if (items == null) {
            return String.valueOf(v);
        }
        int n = items.size();
        int shown = full ? n : Math.min(n, ARRAY_HEAD);
        StringBuilder sb = new StringBuilder("[").append(String.join(", ", items.subList(0, shown)));
        if (shown < n) {
            sb.append(", ... ").append(n - shown).append(" more");
        }
        return sb.append("] (").append(n).append(')').toString();
    }

    private static List<String> floats(float[] a) {
        List<String> out = new ArrayList<>(a.length);
        for (float f : a) out.add(String.valueOf(f));
        return out;
    }

    private static List<String> booleans(boolean[] a) {
        List<String> out = new ArrayList<>(a.length);
        for (boolean b : a) out.add(String.valueOf(b));
        return out;
    }

    /** File strings escaped ({@link Untrusted}: no terminal controls reach the terminal) and cut to {@code max}. */
    private static String quote(String s, int max) {
        return '"' + Untrusted.escape(s.replace("\\", "\\\\").replace("\"", "\\\"")
                .replace("\n", "\\n").replace("\r", "\\r").replace("\t", "\\t"), max) + '"';
    }
}
