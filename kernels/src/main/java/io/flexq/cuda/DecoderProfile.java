package io.flexq.cuda;

import org.bytedeco.cuda.cudart.CUevent_st;
import org.bytedeco.cuda.cudart.CUstream_st;
import org.bytedeco.cuda.global.cudart;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Where a forward's device time goes, stage by stage (for benchmarks; no Nsight needed). A profiled forward is
 * captured into a CUDA graph as the decoder's steps are, with an event record node after every stage
 * ({@code cudaEventRecordExternal}), and replayed once: the time between two events is the stage's kernels plus the
 * gaps between graph nodes, as in a normal replayed step, with no host launch latency in it.
 */
final class DecoderProfile implements AutoCloseable {

    private final CudaDevice dev;
    private final CUstream_st stream;
    private final List<CUevent_st> events = new ArrayList<>();
    private final List<String> labels = new ArrayList<>();
    private int used;
    private final Map<String, Map<String, Double>> phases = new LinkedHashMap<>();
    private final Map<String, Integer> forwards = new LinkedHashMap<>();

    DecoderProfile(CudaDevice dev, CUstream_st stream) {
        this.dev = dev;
        this.stream = stream;
    }

    /** Before a forward's launches (while the stream captures): the first event. */
    void begin() {
        used = 0;
        labels.clear();
        record();
    }

    /** After the launches of stage {@code label}. */
    void mark(String label) {
        record();
        labels.add(label);
    }

    /** After the forward has synchronized: adds its stage times to {@code phase}. */
    void collect(String phase) {
        Map<String, Double> stages = phases.computeIfAbsent(phase, p -> new LinkedHashMap<>());
        float[] ms = new float[1];
        for (int i = 0; i < labels.size(); i++) {
            dev.check(cudart.cudaEventElapsedTime(ms, events.get(i), events.get(i + 1)), "cudaEventElapsedTime", () -> "decoder profile");
            stages.merge(labels.get(i), ms[0] * 1000.0, Double::sum);
        }
        forwards.merge(phase, 1, Integer::sum);
    }

    /** One markdown table: stage, then per phase the microseconds per forward and the share of the phase's total. */
    String table() {
        List<String> stageOrder = new ArrayList<>();
        phases.values().forEach(m -> m.keySet().forEach(s -> {
            if (!stageOrder.contains(s)) {
                stageOrder.add(s);
            }
        }));
        StringBuilder sb = new StringBuilder("| stage |");
        StringBuilder rule = new StringBuilder("|---|");
        for (String p : phases.keySet()) {
            sb.append(' ').append(p).append(" us/forward | share |");
            rule.append("---:|---:|");
        }
        sb.append('\n').append(rule).append('\n');
        for (String s : stageOrder) {
            sb.append("| ").append(s).append(" |");
            for (var e : phases.entrySet()) {
                double total = e.getValue().values().stream().mapToDouble(Double::doubleValue).sum();
                double v = e.getValue().getOrDefault(s, 0.0);
                int n = forwards.get(e.getKey());
                sb.append(String.format(Locale.ROOT, " %.1f | %.1f%% |", v / n, 100 * v / total));
            }
            sb.append('\n');
        }
        sb.append("| **all stages** |");
        for (var e : phases.entrySet()) {
            double total = e.getValue().values().stream().mapToDouble(Double::doubleValue).sum();
            sb.append(String.format(Locale.ROOT, " %.1f | |", total / forwards.get(e.getKey())));
        }
        return sb.append('\n').toString();
    }

    private void record() {
        if (used == events.size()) {
            CUevent_st e = new CUevent_st();
            dev.check(cudart.cudaEventCreate(e), "cudaEventCreate", () -> "decoder profile");
            events.add(e);
        }
        dev.check(cudart.cudaEventRecordWithFlags(events.get(used++), stream, cudart.cudaEventRecordExternal),
                "cudaEventRecordWithFlags(external)", () -> "decoder profile");
    }

    @Override
    public void close() {
        events.forEach(cudart::cudaEventDestroy);
        events.clear();
    }
}
