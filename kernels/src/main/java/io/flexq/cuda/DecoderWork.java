package io.flexq.cuda;

import io.flexq.runtime.llama.LlamaConfig;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;

/**
 * The device buffers one forward of up to {@code capacity} rows works in, and the page-locked host staging of its
 * row table and argmax ids. Replaced (never resized in place) when a larger forward comes: a captured graph holds
 * these addresses, so the model drops its graphs whenever it makes a new DecoderWork.
 */
final class DecoderWork implements AutoCloseable {

    final int capacity;
    /** Attention partial slots: a forward of M rows over C chunks needs M * C. */
    final long partialSlots;
    final DeviceBuffer rows, x, xn, att, proj, h, act6, act8, sa6, sa8, logits, ids, argmaxParts, partials, staging;
    /**
     * Sums of squares of the residual stream per 16-row tile (double, row t at t * normTiles), left by the matmuls that
     * add into it (dec_resid_gemv) for the RMSNorm after them (dec_rmsnorm_parts).
     */
    final DeviceBuffer normParts;
    /** Finished attention chunks per (row, key/value head) while a decode-step attention kernel merges its own; 0 between launches. */
    final DeviceBuffer attentionCounters;
    /** One int per 128-group of the hidden width: dec_gateup_swiglu_gemv counts finished row tiles (zero between launches). */
    final DeviceBuffer swigluCounters;
    final int normTiles;
    /** Outputs of the stacked projections: q|k|v (or q, k, v) and gate|up (or gate, up). */
    final List<DeviceBuffer> qkvOut = new ArrayList<>(), gateUpOut = new ArrayList<>();
    final MemorySegment rowsHost, idsHost;
    private final CudaStream stream;
    private final List<DeviceBuffer> all = new ArrayList<>();

    DecoderWork(CudaDevice dev, CudaStream stream, LlamaConfig c, int capacity, long partialSlots, int[] qkvWidths, int[] gateUpWidths,
                int maxCols, boolean needsStaging) {
        this.capacity = capacity;
        this.partialSlots = partialSlots;
        this.stream = stream;
        long m = capacity;
        int gmax = FlexqKernels.groups(maxCols);
        rows = alloc(dev, m * DecoderKernels.ROW_BYTES, "row table");
        x = alloc(dev, m * c.dim() * 4, "residual stream");
        xn = alloc(dev, m * Math.max(c.dim(), c.qDim()) * 4, "normed rows");
        att = alloc(dev, m * c.qDim() * 4, "attention output");
        proj = alloc(dev, m * c.dim() * 4, "projection output");
        h = alloc(dev, m * c.hiddenDim() * 4, "SwiGLU output");
        act6 = alloc(dev, FlexqKernels.actBytes(capacity, maxCols), "A6 records");
        act8 = alloc(dev, FlexqKernels.actBytes(capacity, maxCols), "A8 records");
        sa6 = alloc(dev, (long) gmax * FlexqKernels.ldsa(capacity) * 4, "A6 scales");
        sa8 = alloc(dev, (long) gmax * FlexqKernels.ldsa(capacity) * 4, "A8 scales");
        logits = alloc(dev, m * c.vocabSize() * 4, "logits");
        ids = alloc(dev, m * 4, "argmax ids");
        argmaxParts = alloc(dev, m * DecoderKernels.ARGMAX_PARTS * 8, "argmax partials");
        partials = alloc(dev, partialSlots * c.heads() * (c.headSize() + 2L) * 4, "attention partials");
        staging = alloc(dev, needsStaging ? m * maxCols * 2 : 16, "fp16 activations");
        normTiles = (c.dim() + 15) / 16;
        normParts = alloc(dev, m * normTiles * 8, "residual sums of squares");
        attentionCounters = alloc(dev, m * c.kvHeads() * 4, "attention chunk counters");
        attentionCounters.fill(0);
        swigluCounters = alloc(dev, ((c.hiddenDim() + 127) / 128) * 4L, "SwiGLU group counters");
        swigluCounters.fill(0);
        for (int w : qkvWidths) {
            qkvOut.add(alloc(dev, m * w * 4, "q/k/v output"));
        }
        for (int w : gateUpWidths) {
            gateUpOut.add(alloc(dev, m * w * 4, "gate/up output"));
        }
        rowsHost = stream.allocHost(m * DecoderKernels.ROW_BYTES, "row table staging");
        idsHost = stream.allocHost(m * 4, "argmax staging");
    }

    private DeviceBuffer alloc(CudaDevice dev, long bytes, String what) {
        DeviceBuffer b;
        try {
            b = dev.alloc(bytes, "decoder " + what + " (" + capacity + " rows)");
        } catch (RuntimeException e) {
            close();
            throw e;
        }
        all.add(b);
        return b;
    }

    DeviceBuffer act(int bits) {
        return bits == 6 ? act6 : act8;
    }

    DeviceBuffer sa(int bits) {
        return bits == 6 ? sa6 : sa8;
    }

    DeviceBuffer f16Staging() {
        return staging;
    }

    long bytes() {
        return all.stream().mapToLong(DeviceBuffer::bytes).sum();
    }

    @Override
    public void close() {
        all.forEach(DeviceBuffer::close);
        all.clear();
        if (rowsHost != null) {
            stream.freeHost(rowsHost);
        }
        if (idsHost != null) {
            stream.freeHost(idsHost);
        }
    }
}
