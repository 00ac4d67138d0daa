package io.flexq.cuda;

import java.util.List;

/**
 * Matrices that read the same input: q, k, v (or gate, up). Stacked into one matrix when they share a storage type
 * and activation mode (one launch; output i at column offset of row t), otherwise one matrix each (output i in
 * buffer i). Interleaved (FQ6 gate and up of equal height): the stacked rows alternate in 128-row groups, gate group
 * g at rows [256 g, 256 g + 128) and up group g after it, so that one matmul block range finishes whole SwiGLU groups
 * (decoder.cu dec_gateup_swiglu_gemv); output i then starts at column 128 i and its groups lie 256 floats apart.
 *
 * @param widths rows of each logical output (q, k, v)
 */
record Projection(List<DeviceLinear> parts, int[] widths, boolean interleaved) implements AutoCloseable {

    /** Stacked back to back or unstacked. */
    Projection(List<DeviceLinear> parts, int[] widths) {
        this(parts, widths, false);
    }

    /** Floats from the start of one 128-group of an output to the next (the same for every output). */
    int groupStride() {
        return interleaved ? 256 : 128;
    }

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
            off += interleaved ? 128 : widths[j];
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
