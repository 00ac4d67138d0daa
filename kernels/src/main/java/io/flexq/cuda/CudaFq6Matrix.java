package io.flexq.cuda;

import io.flexq.plugin.quant.ActivationMode;
import io.flexq.runtime.spi.ActivationBatch;
import io.flexq.runtime.spi.IntegerPartials;
import io.flexq.runtime.spi.WeightMatrix;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Optional;

/**
 * An FQ6 matrix resident on a CUDA device, repacked at load into the kernel layouts it needs. A matmul
 * copies the live tokens to the device, quantizes them there (A6 or A8, per token per 128-group), runs
 * the kernel the {@link Dispatcher} picks for (M, N, K), and copies y back. W6A16 matrices keep the FQ6
 * bytes and run the fp32 correctness kernel.
 *
 * <p>Per-op offload: each call pays two PCIe copies. Calls on one device are serialized.
 *
 * <p>Row ranges ({@code matmul(in, out, rowFrom, rowTo)}, what Jlama sends: one call per row chunk per worker
 * thread, all with the same input) are served as {@link RowRanges} says: by default the chunks of one call share one
 * whole product ({@link SharedProduct}), since a chunk's own launch would cost a round trip per chunk.
 */
final class CudaFq6Matrix implements WeightMatrix, IntegerPartials {

    private final String name;
    private final int rows;
    private final int cols;
    private final ActivationMode mode;
    private final CudaDevice device;
    private final Dispatcher dispatcher;
    private final DeviceBuffer fq6;      // W6A16 only
    private final DeviceBuffer int8;     // I8 tiles, or null
    private final DeviceBuffer planes;   // bit-plane tiles, or null
    private final DeviceBuffer scales;   // scale tiles (A6/A8)
    private final RowRanges rowRanges;
    private final SharedProduct shared;
    private volatile String lastKernel = "none yet";

    CudaFq6Matrix(String name, int rows, int cols, ActivationMode mode, CudaDevice device, Dispatcher dispatcher,
                  DeviceBuffer fq6, DeviceBuffer int8, DeviceBuffer planes, DeviceBuffer scales) {
        this.name = name;
        this.rows = rows;
        this.cols = cols;
        this.mode = mode;
        this.device = device;
        this.dispatcher = dispatcher;
        this.fq6 = fq6;
        this.int8 = int8;
        this.planes = planes;
        this.scales = scales;
        this.rowRanges = RowRanges.fromProperty();
        this.shared = new SharedProduct(rows, cols);
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public int rows() {
        return rows;
    }

    @Override
    public int cols() {
        return cols;
    }

    ActivationMode mode() {
        return mode;
    }

    @Override
    public void matmul(ActivationBatch in, ActivationBatch out) {
        WeightMatrix.checkShapes(this, in, out);
        run(in, out.data(), null);
        out.changed();
    }

    /**
     * Rows {@code [rowFrom, rowTo)}: each bit for bit the whole product's row (see {@link RowRanges} for how; the
     * range launch uses the whole product's kernel and K-splits, whose per-row sums do not depend on N or on
     * where the tile sits).
     */
    @Override
    public void matmul(ActivationBatch in, ActivationBatch out, int rowFrom, int rowTo) {
        matmul(in, out, rowFrom, rowTo, rowRanges);
    }

    /** As above, served as {@code how} says (tests run every way on one matrix). */
    void matmul(ActivationBatch in, ActivationBatch out, int rowFrom, int rowTo, RowRanges how) {
        WeightMatrix.checkRowRange(this, in, out, rowFrom, rowTo);
        if (rowFrom < rowTo) {
            switch (how) {
                case WHOLE -> WeightMatrix.super.matmul(in, out, rowFrom, rowTo);
                case LAUNCH -> {
                    if (mode == ActivationMode.A16) {
                        shared.serve(in, out, rowFrom, rowTo, (x, y) -> run(x, y, null));
                    } else {
                        launchRows(in, out, rowFrom, rowTo);
                    }
                }
                case SHARED -> shared.serve(in, out, rowFrom, rowTo, (x, y) -> run(x, y, null));
            }
        }
        out.changed();
    }

    /** Whole products the shared row-range path has run (tests). */
    SharedProduct sharedProduct() {
        return shared;
    }

    /** The kernel's {@code _p} twin on the same dispatch: its int32 group partials (W6A6 / W6A8 only). */
    @Override
    public Optional<int[]> integerPartials(ActivationBatch in) {
        if (in.dim() != cols) {
            throw new IllegalArgumentException(name + ": input has dim " + in.dim() + ", matrix has " + cols + " columns");
        }
        if (mode == ActivationMode.A16) {
            return Optional.empty();
        }
        int m = in.tokens();
        long count = (long) m * rows * FlexqKernels.groups(cols);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment y = arena.allocate((long) m * rows * 4, 64);
            MemorySegment p = arena.allocate(count * 4, 64);
            run(in, y, p);
            return Optional.of(p.toArray(ValueLayout.JAVA_INT));
        }
    }

    /** y (M x rows floats) for in; with {@code partials} non-null also P (M x rows x groups ints). */
    private void run(ActivationBatch in, MemorySegment yHost, MemorySegment partialsHost) {
        int m = in.tokens();
        synchronized (device) {
            device.makeCurrent();
            FlexqKernels k = device.kernels();
            DeviceBuffer x = device.scratch("x", (long) m * cols * 4);
            x.upload(in.data().asSlice(0, (long) m * cols * 4), 0);
            DeviceBuffer y = device.scratch("y", (long) m * rows * 4);
            DeviceBuffer p = partialsHost == null ? null : device.scratch("partials", partialsHost.byteSize());
            if (mode == ActivationMode.A16) {
                k.w6a16(fq6, rows, cols, x, cols, y, m);
                lastKernel = "flexq_w6a16";
            } else {
                Dispatcher.Choice c = choice(m);
                quantizedGemm(k, c, x, m, tiles(c), scales, y, p, rows);
                lastKernel = c.spec().name() + (p == null ? "" : "_p") + (c.spec().gemm() ? "" : " splits=" + c.splits());
            }
            y.download(yHost.asSlice(0, (long) m * rows * 4), 0);
            if (p != null) {
                p.download(partialsHost, 0);
            }
        }
    }

    /** The tile layout kernel choice {@code c} reads: bit planes or int8. */
    private DeviceBuffer tiles(Dispatcher.Choice c) {
        return c.spec().path().planes() ? planes : int8;
    }

    /**
     * x (m x cols, on the device) quantized to the matrix's activation bits in the layout {@code c} reads, then
     * {@code c}'s kernel on {@code n} rows of weight tiles {@code w} and their scale tiles {@code s} into y (and P).
     */
    private void quantizedGemm(FlexqKernels k, Dispatcher.Choice c, DeviceBuffer x, int m, DeviceBuffer w, DeviceBuffer s,
                               DeviceBuffer y, DeviceBuffer p, int n) {
        boolean usePlanes = c.spec().path().planes();
        DeviceBuffer act = device.scratch("act", FlexqKernels.actBytes(m, cols));
        DeviceBuffer sa = device.scratch("sa", FlexqKernels.actScaleBytes(m, cols));
        k.quantize(mode.bits(), x, cols, m, cols, usePlanes ? null : act, usePlanes ? act : null, sa);
        k.gemm(c.spec(), c.splits(), w, s, act, sa, y, p, m, n, cols);
    }

    /** The kernel (and K-splits) for M tokens of the whole matrix, among the layouts this matrix keeps. */
    Dispatcher.Choice choice(int m) {
        Dispatcher.Choice c = dispatcher.choose(m, rows, cols, mode.bits());
        if (c.spec().path().planes() && planes == null || !c.spec().path().planes() && int8 == null) {
            c = new Dispatcher.Choice(KernelSpec.byName(planes != null ? "flexq_gemv_btc_a" + mode.bits() + "_nt1" : "flexq_gemv_i8_nt1").orElseThrow(), 1);
        }
        return c;
    }

    /**
     * One launch for rows [rowFrom, rowTo) (W6A6 / W6A8): the whole product's kernel choice (so the same sums per
     * row) on the tiles of the {@link TileRange}, N = the covered rows; y comes back for those rows only.
     */
    private void launchRows(ActivationBatch in, ActivationBatch out, int rowFrom, int rowTo) {
        int m = in.tokens();
        TileRange range = TileRange.of(rowFrom, rowTo, rows, cols);
        int n = range.rows();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment yHost = arena.allocate((long) m * n * 4, 64);
            synchronized (device) {
                device.makeCurrent();
                FlexqKernels k = device.kernels();
                DeviceBuffer x = device.scratch("x", (long) m * cols * 4);
                x.upload(in.data().asSlice(0, (long) m * cols * 4), 0);
                Dispatcher.Choice c = choice(m);
                DeviceBuffer y = device.scratch("y", (long) m * n * 4);
                try (DeviceBuffer w = tiles(c).view(range.weightOffset(), range.weightBytes(cols));
                     DeviceBuffer s = scales.view(range.scaleOffset(), range.scaleBytes(cols))) {
                    quantizedGemm(k, c, x, m, w, s, y, null, n);
                }
                y.download(yHost, 0);
                lastKernel = c.spec().name() + (c.spec().gemm() ? "" : " splits=" + c.splits()) + " rows [" + range.coverFrom() + ", " + range.coverTo() + ")";
            }
            long skip = 4L * (rowFrom - range.coverFrom()), bytes = 4L * (rowTo - rowFrom);
            for (int t = 0; t < m; t++) {
                MemorySegment.copy(yHost, 4L * t * n + skip, out.data(), out.offsetOf(t, rowFrom), bytes);
            }
        }
    }

    @Override
    public String describe() {
        return "flexq-cuda FQ6 W6" + mode + " " + rows + " x " + cols + " on " + device.describe() + ", last kernel " + lastKernel;
    }

    @Override
    public void close() {
        synchronized (device) {
            for (DeviceBuffer b : new DeviceBuffer[] {fq6, int8, planes, scales}) {
                if (b != null) {
                    b.close();
                }
            }
        }
    }
}
