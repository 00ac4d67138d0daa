package io.flexq.cuda;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Locale;

/**
 * Phase times of decode attention inside one replayed decode step (profile runs only): the `_trace` attention entry
 * points of decoder.cu store the global timer at ATT_TRACE_STAMPS points per block (start, past the wait for the qkv
 * matmul, scores done, partials about to be stored, counted, the merging block's fence, merge done), and
 * {@link #table} reduces them per layer: how long after the layer's first block passed its wait each phase ended,
 * averaged over the layers. For one row (m = 1), layer l's launch of kvHeads x chunks blocks stores from
 * {@code l * kvHeads * chunks * STAMPS} on.
 */
final class AttentionTrace implements AutoCloseable {

    /** ATT_TRACE_STAMPS in decoder.cu. */
    static final int STAMPS = 7;
    private static final String[] PHASES = {"started", "past its wait", "scores done", "partials to store", "counted", "merger's fence done",
        "merged"};

    private final DeviceBuffer stamps;
    private final int layers, blocksPerLayer;

    /** Room for {@code layers} launches of kvHeads x chunks blocks each (one row). */
    AttentionTrace(CudaDevice dev, int layers, int kvHeads, int chunks) {
        this.layers = layers;
        this.blocksPerLayer = kvHeads * chunks;
        this.stamps = dev.alloc((long) layers * blocksPerLayer * STAMPS * 8, "attention trace");
        stamps.fill(0);
    }

    /** Where layer l's launch stores its stamps. */
    long address(int layer) {
        return stamps.address() + (long) layer * blocksPerLayer * STAMPS * 8;
    }

    /**
     * Per phase, the mean over layers of (the time the phase ended in the layer's last block that reached it) minus
     * (the time the layer's first block passed its wait), in microseconds; "started" counts from the first block's start.
     */
    String table() {
        long[] all = new long[layers * blocksPerLayer * STAMPS];
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment host = arena.allocate((long) all.length * 8, 8);
            stamps.download(host, 0);
            MemorySegment.copy(host, ValueLayout.JAVA_LONG, 0, all, 0, all.length);
        }
        return table(all, layers, blocksPerLayer);
    }

    /** {@link #table} of stamps laid out as the kernels store them (0: not reached). */
    static String table(long[] all, int layers, int blocksPerLayer) {
        double[] sum = new double[STAMPS];
        int[] blocks = new int[STAMPS];
        double waited = 0;  // first block past its wait minus first block's start, summed over layers
        long prevWait = 0, period = 0;  // first wait of layer l minus that of layer l - 1, summed
        for (int l = 0; l < layers; l++) {
            long firstWait = Long.MAX_VALUE, firstStart = Long.MAX_VALUE;
            long[] last = new long[STAMPS];
            for (int b = 0; b < blocksPerLayer; b++) {
                int at = (l * blocksPerLayer + b) * STAMPS;
                if (all[at] != 0) {
                    firstStart = Math.min(firstStart, all[at]);
                }
                if (all[at + 1] != 0) {
                    firstWait = Math.min(firstWait, all[at + 1]);
                }
                for (int k = 0; k < STAMPS; k++) {
                    last[k] = Math.max(last[k], all[at + k]);
                    blocks[k] += l == 0 && all[at + k] != 0 ? 1 : 0;
                }
            }
            waited += (firstWait - firstStart) / 1e3;
            period += l > 0 ? firstWait - prevWait : 0;
            prevWait = firstWait;
            for (int k = 0; k < STAMPS; k++) {
                if (last[k] != 0) {
                    sum[k] += (last[k] - (k == 0 ? firstStart : firstWait)) / 1e3;
                }
            }
        }
        StringBuilder out = new StringBuilder(String.format(Locale.ROOT,
                "%n### Decode attention phases (one replayed step, %d layers, %d blocks a layer; global timer)%n%n"
                        + "| phase | last block there, us after the first passed its wait | blocks reaching it (layer 0) |%n|---|---:|---:|%n",
                layers, blocksPerLayer));
        for (int k = 0; k < STAMPS; k++) {
            out.append(String.format(Locale.ROOT, "| %s%s | %.2f | %d |%n", PHASES[k], k == 0 ? " (from the first block's start)" : "",
                    sum[k] / layers, blocks[k]));
        }
        out.append(String.format(Locale.ROOT, "%nThe first block passed its wait %.2f us after the first block started; layer to layer "
                + "(first wait to first wait) %.2f us.%n", waited / layers, layers > 1 ? period / 1e3 / (layers - 1) : 0.0));
        return out.toString();
    }

    @Override
    public void close() {
        stamps.close();
    }

}
