package io.flexq.jlama;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;

/**
 * Counts where Jlama's matrix products went: per FQ6 tensor, the row chunks FlexQ computed; the calls
 * passed on to Jlama's own operations; and FQ6 tensors that reached Jlama's operations (must stay 0:
 * {@link FlexqOperations} refuses them). One instance per wrapper; read by tests and the exit summary.
 */
public final class Routing {

    private final Map<String, LongAdder> flexqChunks = new ConcurrentHashMap<>();
    private final LongAdder flexqRows = new LongAdder();
    private final LongAdder jlamaCalls = new LongAdder();
    private final LongAdder fq6ReachedJlama = new LongAdder();
    private final LongAdder dequantizedInputs = new LongAdder();
    private final Map<String, Boolean> backends = new ConcurrentHashMap<>();

    /** One chunk of {@code tensor}: {@code rows} rows for {@code tokens} tokens, on the backend {@code backend}. */
    void flexq(String tensor, int tokens, int rows, String backend) {
        flexqChunks.computeIfAbsent(tensor, k -> new LongAdder()).increment();
        flexqRows.add((long) tokens * rows);
        backends.putIfAbsent(backend, Boolean.TRUE);
    }

    void jlama() {
        jlamaCalls.increment();
    }

    void fq6ReachedJlama() {
        fq6ReachedJlama.increment();
    }

    void dequantizedInput() {
        dequantizedInputs.increment();
    }

    /** Row chunks FlexQ computed, per FQ6 tensor name (a copy). */
    public Map<String, Long> flexqChunksByTensor() {
        Map<String, Long> m = new java.util.TreeMap<>();
        flexqChunks.forEach((k, v) -> m.put(k, v.sum()));
        return m;
    }

    public long jlamaCalls() {
        return jlamaCalls.sum();
    }

    public long fq6TensorsThatReachedJlama() {
        return fq6ReachedJlama.sum();
    }

    public long dequantizedInputs() {
        return dequantizedInputs.sum();
    }

    /** The one line printed at exit. */
    public String summary(String jlamaOps) {
        long chunks = flexqChunks.values().stream().mapToLong(LongAdder::sum).sum();
        return "flexq-jlama: " + flexqChunks.size() + " FQ6 tensors took " + chunks + " matmul chunks (" + flexqRows.sum()
                + " token-rows) on FlexQ " + new java.util.TreeSet<>(backends.keySet()) + "; " + jlamaCalls.sum() + " other calls ran on Jlama's " + jlamaOps
                + "; FQ6 tensors that reached Jlama's ops: " + fq6ReachedJlama.sum()
                + (dequantizedInputs.sum() > 0 ? "; Jlama I8/BF16 inputs dequantized: " + dequantizedInputs.sum() : "");
    }
}
