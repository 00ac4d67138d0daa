package io.flexq.cuda;

import java.util.List;

/**
 * Matrices that read the same input: q, k, v (or gate, up). Stacked into one matrix when they share a storage type
 * and activation mode (one launch; output i at column offset of row t), otherwise one matrix each (output i in
 * buffer i).
 *
 * @param widths rows of each logical output (q, k, v)
 */
record Projection(List<DeviceLinear> parts, int[] widths) implements AutoCloseable {

    boolean stacked() {
        return parts.size() == 1 && widths.length > 1;
    }

    /** Output buffer sizes (floats per row) to allocate: one per part. */
    int[] partWidths() {
        return parts.stream().mapToInt(DeviceLinear::rows).toArray();
    }

    /** The bits of the first part (what the producing kernel should quantize to), 0 for fp32. */
    int primaryBits() {
        return parts.getFirst().bits();
    }

    /** Whether the first part reads natural-order records for m rows (the order the producing kernel should write). */
    boolean primaryNatural(int m) {
        return parts.getFirst().natural(m);
    }

    void run(FlexqKernels k, DecoderKernels d, LayerInput in, List<DeviceBuffer> outs) {
        for (int i = 0; i < parts.size(); i++) {
            parts.get(i).run(k, d, in, outs.get(i).address());
        }
    }

    /** Device address of output i's row 0. */
    long out(List<DeviceBuffer> outs, int i) {
        if (!stacked()) {
            return outs.get(i).address();
        }
        long off = 0;
        for (int j = 0; j < i; j++) {
            off += widths[j];
        }
        return outs.getFirst().address() + off * 4;
    }

    /** Row stride (floats) of output i. */
    int ld(int i) {
        return stacked() ? parts.getFirst().rows() : widths[i];
    }

    long bytes() {
        return parts.stream().mapToLong(DeviceLinear::bytes).sum();
    }

    @Override
    public void close() {
        parts.forEach(DeviceLinear::close);
    }
}
