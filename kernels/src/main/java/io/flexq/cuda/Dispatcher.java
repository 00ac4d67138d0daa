package io.flexq.cuda;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;

/**
 * Picks the kernel (and K-splits) for a product of M tokens by an N x K weight from a table measured
 * on the GPU ({@code dispatch-sm90.tsv}, the fastest exact kernel per shape and M from
 * {@code bench/results/cuda-kernels-h200.md}). A shape not in the table takes the entry of the measured
 * shape nearest in N * K; an M between measured values takes the next larger measured M. Without a
 * table for the device (another architecture) it falls back to rules drawn from the same measurements:
 * INT8-MMA GEMV up to 64 tokens, INT8-MMA GEMM beyond.
 */
public final class Dispatcher {

    /** One measured row: the winner for (N, K, M, activation bits). */
    public record Entry(int n, int k, int m, int bits, String kernel, int splits, double micros) {
    }

    /** What to launch. */
    public record Choice(KernelSpec spec, int splits) {
    }

    private static final KernelSpec ORDERED = KernelSpec.byName("flexq_gemv_i8_ord").orElseThrow();
    /** Shared memory an ordered GEMV block may take (at most a 2x smaller share of an SM's 228 KiB on sm_90). */
    private static final int MAX_ORDERED_SHARED = 112 * 1024;

    private final List<Entry> table;
    private final List<Entry> wgTable;
    private final int smCount;
    private final boolean orderedEnabled = !"false".equals(System.getProperty("flexq.cuda.ordered"));

    public Dispatcher(List<Entry> table, int smCount) {
        this(table, List.of(), smCount);
    }

    /**
     * @param wgTable the wgmma rows ({@code dispatch-sm90-wg.tsv}): per measured shape and M the wgmma config that beat
     *                every INT8-MMA kernel, or {@code none}; empty where the device has no wgmma kernels
     */
    public Dispatcher(List<Entry> table, List<Entry> wgTable, int smCount) {
        this.table = List.copyOf(table);
        this.wgTable = List.copyOf(wgTable);
        this.smCount = smCount;
    }

    /** The dispatcher for a device of compute capability {@code cc}: the measured table if one exists for it. */
    public static Dispatcher forDevice(int cc, int smCount) {
        String file = System.getProperty("flexq.cuda.dispatch");
        if (file != null) {
            try (InputStream in = java.nio.file.Files.newInputStream(java.nio.file.Path.of(file))) {
                return new Dispatcher(readTable(in, file), smCount);
            } catch (IOException e) {
                throw new UncheckedIOException("-Dflexq.cuda.dispatch=" + file, e);
            }
        }
        boolean wg = cc == 90 && !"false".equals(System.getProperty("flexq.cuda.wgmma"));
        return new Dispatcher(cc == 90 ? readTable("dispatch-sm90.tsv") : List.of(), wg ? readTable("dispatch-sm90-wg.tsv") : List.of(), smCount);
    }

    /**
     * The wgmma kernel (hopper.cu) for a product of M tokens by an N x K weight held in the I8 tiles, if one was
     * measured faster than the INT8-MMA kernels there: the row of the measured shape nearest in N * K, at the next
     * larger measured M (the largest for M beyond). Its activations must be natural-order records
     * ({@link FlexqKernels#quantize(int, boolean, DeviceBuffer, int, int, int, DeviceBuffer, DeviceBuffer, DeviceBuffer)}).
     * Empty for decode sizes (the ordered GEMV), off sm_90, or with {@code -Dflexq.cuda.wgmma=false}.
     */
    public Optional<Choice> wgmma(int m, int n, int k) {
        if (wgTable.isEmpty() || useOrdered(m, k)) {
            return Optional.empty();
        }
        Entry pick = measured(wgTable, m, n, k);
        if (pick.kernel.equals("none")) {
            return Optional.empty();
        }
        KernelSpec spec = KernelSpec.byName(pick.kernel).filter(s -> s.path() == KernelSpec.Path.WG)
                .orElseThrow(() -> new IllegalStateException("dispatch-sm90-wg.tsv names " + pick.kernel + ", which is no wgmma kernel"));
        return Optional.of(new Choice(spec, 1));
    }

    public List<Entry> table() {
        return table;
    }

    public Choice choose(int m, int n, int k, int bits) {
        if (useOrdered(m, k)) {
            return new Choice(ORDERED, 1);
        }
        // WG (wgmma) kernels need natural-order records: callers that make them ask wgmma() first
        // (Fq6Linear); rows naming them are skipped here.
        List<Entry> rows = table.stream().filter(e -> e.bits == bits
                && KernelSpec.byName(e.kernel).filter(s -> s.path() != KernelSpec.Path.WG).isPresent()).toList();
        if (!rows.isEmpty()) {
            Entry pick = measured(rows, m, n, k);
            KernelSpec spec = KernelSpec.byName(pick.kernel).orElseThrow();
            if (!spec.gemm() && m > 64) {
                return rule(m, n, k, bits);  // never stretch a GEMV entry to prefill sizes
            }
            return new Choice(spec, spec.gemm() ? 1 : scaleSplits(pick, n, k));
        }
        return rule(m, n, k, bits);
    }

    /** The measured-rule choice among the INT8-MMA kernels only (for callers that keep no bit-plane layout). */
    public Choice int8Rule(int m, int n, int k) {
        return useOrdered(m, k) ? new Choice(ORDERED, 1) : rule(m, n, k, 8);
    }

    /**
     * Decode sizes (M <= 8) take the ordered GEMV: exact like an unsplit launch, one kernel with no zeroed output.
     * It replaced the split-K GEMV rows of the table for M <= 8 (kernel table: bench/results/e2e-h100.md);
     * {@code -Dflexq.cuda.ordered=false} restores them, for A/B runs.
     */
    private boolean useOrdered(int m, int k) {
        return orderedEnabled && m <= KernelSpec.ORDERED_MAX_TOKENS && KernelSpec.orderedSharedBytes(m, k) <= MAX_ORDERED_SHARED;
    }

    /** The row of {@code rows} (not empty) for the measured shape nearest in N * K, at the next larger measured M (the largest beyond). */
    private static Entry measured(List<Entry> rows, int m, int n, int k) {
        double size = Math.log((double) n * k);
        Entry nearestShape = rows.stream().min(Comparator.comparingDouble(e -> Math.abs(Math.log((double) e.n * e.k) - size))).orElseThrow();
        List<Entry> shape = rows.stream().filter(e -> e.n == nearestShape.n && e.k == nearestShape.k)
                .sorted(Comparator.comparingInt(Entry::m)).toList();
        return shape.stream().filter(e -> e.m >= m).findFirst().orElse(shape.getLast());
    }

    /** Keeps the table's work per warp when the shape differs: splits * rowTiles stays about the same. */
    private static int scaleSplits(Entry e, int n, int k) {
        double work = (double) e.splits * ((e.n + 15) / 16);
        int splits = (int) Math.round(work / ((n + 15) / 16));
        return Math.max(1, Math.min(splits, FlexqKernels.groups(k)));
    }

    private Choice rule(int m, int n, int k, int bits) {
        if (m <= 64) {
            String name = m <= 8 ? "flexq_gemv_i8_nt1" : m <= 16 ? "flexq_gemv_i8_nt2" : "flexq_gemv_i8_nt4";
            int rowTiles = (n + 15) / 16;
            int target = smCount * 16;  // warps that keep every SM's memory pipes busy (measured: splits to ~2000 warps)
            int splits = Math.max(1, Math.min(FlexqKernels.groups(k), target / Math.max(1, rowTiles)));
            return new Choice(KernelSpec.byName(name).orElseThrow(), splits);
        }
        return new Choice(KernelSpec.byName(m <= 128 ? "flexq_gemm_i8_128x32" : "flexq_gemm_i8_128x128").orElseThrow(), 1);
    }

    /** Reads a tab-separated table: N K M bits kernel splits micros; '#' starts a comment. Missing resource: empty. */
    static List<Entry> readTable(String resource) {
        try (InputStream in = Dispatcher.class.getResourceAsStream(resource)) {
            return in == null ? List.of() : readTable(in, resource);
        } catch (IOException e) {
            throw new UncheckedIOException("reading " + resource, e);
        }
    }

    static List<Entry> readTable(InputStream in, String resource) {
        try {
            List<Entry> out = new ArrayList<>();
            BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8));
            String line;
            int no = 0;
            while ((line = r.readLine()) != null) {
                no++;
                line = line.strip();
                if (line.isEmpty() || line.startsWith("#")) {
                    continue;
                }
                String[] f = line.split("\t");
                if (f.length < 7) {
                    throw new IllegalStateException(resource + " line " + no + ": expected 7 tab-separated fields, got " + f.length);
                }
                out.add(new Entry(Integer.parseInt(f[0]), Integer.parseInt(f[1]), Integer.parseInt(f[2]), Integer.parseInt(f[3]),
                        f[4], Integer.parseInt(f[5]), Double.parseDouble(f[6])));
            }
            return out;
        } catch (IOException e) {
            throw new UncheckedIOException("reading " + resource, e);
        }
    }
}
