package io.flexq.cuda;

import java.util.Optional;
import java.util.function.Supplier;

/**
 * An FQ6 matrix in the INT8-MMA tile layout (flexq.cu) with its scale tiles, run as W6A6 or W6A8 through the kernel
 * the {@link Dispatcher} picks for (M, N, K); or, for W6A16 ({@code bits == 16}), the FQ6 bytes as stored, run by the
 * fp32 kernel. Rows may be several source matrices stacked (q, k and v), each repacked at its row-tile offset.
 */
record Fq6Linear(String name, int rows, int cols, int activationBits, DeviceBuffer tiles, DeviceBuffer scales, DeviceBuffer raw,
                 Dispatcher dispatcher) implements DeviceLinear {

    @Override
    public int bits() {
        return activationBits == 16 ? 0 : activationBits;
    }

    @Override
    public long bytes() {
        return raw != null ? raw.bytes() : tiles.bytes() + scales.bytes();
    }

    @Override
    public String describe() {
        return name + ": FQ6 W6A" + activationBits + " " + rows + " x " + cols;
    }

    @Override
    public void run(FlexqKernels k, DecoderKernels d, LayerInput in, long y) {
        int m = in.rows;
        DeviceBuffer yb = DeviceBuffer.borrowed(k.device(), name + " output", y, (long) m * rows * 4);
        if (activationBits == 16) {
            DeviceBuffer xb = DeviceBuffer.borrowed(k.device(), name + " input", in.x, (long) m * cols * 4);
            k.w6a16(raw, rows, cols, xb, cols, yb, m);
            return;
        }
        Optional<Dispatcher.Choice> wg = dispatcher.wgmma(m, rows, cols);
        if (wg.isPresent()) {  // Hopper, prompt sizes: the wgmma kernel on the same I8 tiles, natural-order records
            k.gemm(wg.get().spec(), 1, tiles, scales, in.records(k, activationBits, true), in.scales(activationBits), yb, null, m, rows, cols);
            return;
        }
        Dispatcher.Choice c = dispatcher.choose(m, rows, cols, activationBits);
        if (c.spec().path().planes()) {
            c = dispatcher.int8Rule(m, rows, cols);  // the decoder keeps the int8 layout only (it wins on Hopper)
        }
        k.gemm(c.spec(), c.splits(), tiles, scales, in.records(k, activationBits), in.scales(activationBits), yb, null, m, rows, cols);
    }

    @Override
    public boolean natural(int m) {
        return activationBits != 16 && dispatcher.wgmma(m, rows, cols).isPresent();
    }

    /** Whether a forward of m rows runs the ordered GEMV (the kernel the fused decode launches below extend). */
    boolean ordered(int m) {
        return activationBits != 16 && dispatcher.choose(m, rows, cols, activationBits).spec().ordered();
    }

    /**
     * The stacked q|k|v matmul with RoPE and the KV-cache store as its epilogue (decoder.cu dec_qkv_rope_gemv): q rotated
     * into y, k and v into each row's cache. Needs {@link #ordered} and rows == qDim + 2 * kvDim.
     */
    void runQkvRope(FlexqKernels k, LayerInput in, long y, long rowTable, int qDim, int kvDim, int hd, int pairs, long cos, long sin,
                    int layer) {
        int m = in.rows, g = FlexqKernels.groups(cols);
        if (rows != qDim + 2 * kvDim) {
            throw new IllegalArgumentException(name + ": " + rows + " rows are not q|k|v of " + qDim + " + 2 x " + kvDim);
        }
        Object[] args = {tiles.address(), scales.address(), in.records(k, activationBits).address(), in.scales(activationBits).address(),
                FlexqKernels.ldsa(m), y, 0L, m, rows, g, g, rowTable, qDim, kvDim, hd, pairs, cos, sin, layer};
        launchOrdered(k, "dec_qkv_rope_gemv", m, () -> "dec_qkv_rope_gemv M=" + m + " N=" + rows + " K=" + cols + " layer " + layer, args);
    }

    /**
     * This matrix (o or down) added into the residual stream x in place, leaving the new x's sums of squares per 16-row
     * tile in {@code parts} (decoder.cu dec_resid_gemv, for {@link DecoderKernels#rmsNormParts}). Needs {@link #ordered}.
     */
    void runResidual(FlexqKernels k, LayerInput in, long x, long parts) {
        int m = in.rows, g = FlexqKernels.groups(cols);
        Object[] args = {tiles.address(), scales.address(), in.records(k, activationBits).address(), in.scales(activationBits).address(),
                FlexqKernels.ldsa(m), x, 0L, m, rows, g, g, parts};
        launchOrdered(k, "dec_resid_gemv", m, () -> "dec_resid_gemv " + name + " M=" + m + " N=" + rows + " K=" + cols, args);
    }

    /**
     * One launch of an ordered-GEMV entry point of decoder.cu over this matrix's row tiles: {@code kernel}, or its
     * {@code _deep} twin where K runs past one round of batches ({@link KernelSpec#orderedDeep}).
     */
    private void launchOrdered(FlexqKernels k, String kernel, int m, Supplier<String> what, Object... args) {
        String entry = KernelSpec.orderedDeep(cols) ? kernel + "_deep" : kernel;
        k.launch(entry, KernelSpec.orderedSharedBytes(m, cols), (rows + 15) / 16, 1, 1, KernelSpec.ORDERED_WARPS * 32, what, args);
    }

    @Override
    public void close() {
        for (DeviceBuffer b : new DeviceBuffer[] {tiles, scales, raw}) {
            if (b != null) {
                b.close();
            }
        }
    }
}
