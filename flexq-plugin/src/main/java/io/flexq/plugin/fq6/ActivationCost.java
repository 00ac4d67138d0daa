package io.flexq.plugin.fq6;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * What 6-bit activations buy on each FQ6 kernel path: the measured time of a W6A6 matmul over a W6A8 one. The
 * default preset follows it: when every target path runs A6 as fast as A8 (ratio >= {@link #PAYS_BELOW}), A6 only
 * costs quality and the default is {@code a8}; when some target gains, the default is {@code auto}, which trades the
 * gain against the measured KLD layer by layer and prints both.
 *
 * <p>Rows (each from a committed benchmark; ratio = A6 time / A8 time, below 1 means A6 is faster):
 * <ul>
 *   <li>{@code cpu}: flexq-cpu, the exact integer Vector API kernels. The same kernel runs either code width; only the
 *       activation quantizer's Q differs. bench/results/cpu-flexq.md: 4096x4096 16 tokens 6.625 vs 6.629 ms,
 *       11008x4096 16.424 vs 16.698, 4096x11008 17.302 vs 17.024 (median): 1.00.</li>
 *   <li>{@code cuda-sm90}: flexq-cuda on Hopper (H200), INT8-MMA kernels, which the measured dispatch table picks at
 *       every M. bench/results/cuda-kernels-h200.md: "W6A8 within 1%" of W6A6 (70B qkv M=1 23.5 vs 23.6 us): 1.00.</li>
 *   <li>{@code btc}: the bit-serial binary-tensor-core path (m16n8k256), where A6 multiplies fewer bit planes.
 *       cuda-kernels-h200.md, 70B qkv M=1: 26.3 (A6) vs 28.2 us (A8): 0.93. Not dispatched on the H200 (INT8-MMA is
 *       faster there); the row is for hardware where bit-serial GEMM is the fast path (the FlexQ paper's sm_86).</li>
 * </ul>
 */
public final class ActivationCost {

    /** A6 "pays" on a path whose A6/A8 time ratio is below this (a 1% gain is inside run-to-run noise). */
    public static final double PAYS_BELOW = 0.99;

    /** One measured kernel path. */
    public record Path(String id, String description, double a6OverA8, String source) {
        public boolean a6Pays() {
            return a6OverA8 < PAYS_BELOW;
        }
    }

    public static final List<Path> TABLE = List.of(
            new Path("cpu", "flexq-cpu integer kernels (Vector API)", 1.00, "bench/results/cpu-flexq.md"),
            new Path("cuda-sm90", "flexq-cuda INT8-MMA, Hopper (H200)", 1.00, "bench/results/cuda-kernels-h200.md"),
            new Path("btc", "bit-serial binary tensor cores (m16n8k256)", 0.93, "bench/results/cuda-kernels-h200.md (BTC columns)"));

    /** The paths this project's backends dispatch to today: where a file is run unless the user says otherwise. */
    public static final List<String> DEFAULT_TARGETS = List.of("cpu", "cuda-sm90");

    private ActivationCost() {
    }

    public static Path path(String id) {
        for (Path p : TABLE) {
            if (p.id().equals(id)) {
                return p;
            }
        }
        throw new IllegalArgumentException("unknown target '" + id + "' (targets: " + String.join(", ", TABLE.stream().map(Path::id).toList()) + ")");
    }

    public static List<Path> paths(List<String> ids) {
        List<Path> out = new ArrayList<>();
        ids.forEach(id -> out.add(path(id)));
        return out;
    }

    /** {@code a8} unless A6 pays on some target path, then {@code auto}. */
    public static Preset defaultPreset(List<Path> targets) {
        return targets.stream().anyMatch(Path::a6Pays) ? Preset.AUTO : Preset.A8;
    }

    /**
     * Predicted matmul time of a mix of modes relative to all-A8 on {@code target}: each layer weighs by its
     * multiply-adds per token (rows x cols), A6 layers at the path's ratio, A8/A16 layers at 1.
     *
     * @param a6 for each layer, its MACs per token and whether it runs A6
     */
    public static double relativeTime(Path target, Map<String, Long> macs, Map<String, Boolean> a6) {
        double total = 0, mixed = 0;
        for (var e : macs.entrySet()) {
            total += e.getValue();
            mixed += e.getValue() * (Boolean.TRUE.equals(a6.get(e.getKey())) ? target.a6OverA8() : 1.0);
        }
        return total == 0 ? 1.0 : mixed / total;
    }

    /** One line per target: the predicted linear-layer speed gain of a mix over all-A8. */
    public static List<String> describeGain(List<Path> targets, Map<String, Long> macs, Map<String, Boolean> a6) {
        List<String> out = new ArrayList<>();
        for (Path p : targets) {
            double rel = relativeTime(p, macs, a6);
            out.add(String.format(Locale.ROOT, "%s (%s): linear layers %.1f%% faster than all-A8 (A6/A8 time %.2f, %s)",
                    p.id(), p.description(), 100 * (1 / rel - 1), p.a6OverA8(), p.source()));
        }
        return out;
    }
}
