package io.flexq.cuda;

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
        Dispatcher.Choice c = dispatcher.choose(m, rows, cols, activationBits);
        if (c.spec().path().planes()) {
            c = dispatcher.int8Rule(m, rows, cols);  // the decoder keeps the int8 layout only (it wins on Hopper)
        }
        k.gemm(c.spec(), c.splits(), tiles, scales, in.records(k, activationBits), in.scales(activationBits), yb, null, m, rows, cols);
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
