package io.flexq.cuda;

import org.bytedeco.cuda.cudart.CUfunc_st;
import org.bytedeco.cuda.cudart.CUlaunchAttribute;
import org.bytedeco.cuda.cudart.CUlaunchConfig;
import org.bytedeco.cuda.cudart.CUstream_st;
import org.bytedeco.cuda.global.cudart;
import org.bytedeco.javacpp.LongPointer;
import org.bytedeco.javacpp.PointerPointer;

import java.util.function.Supplier;

/**
 * Typed launches of the FlexQ kernels on one device. Buffer layouts are the index formulas at the top of
 * flexq.cu; sizes for R rows, K cols, M tokens, G = ceil(K / 128), Rt = ceil(R / 16):
 * <pre>
 *   FQ6 tensor        R * G * 98 bytes (contract layout)
 *   weight tiles      Rt * G * 1536 bytes per layout (bit planes, int8)   weight scales  Rt * G * 32 bytes
 *   activation recs   M * G * 128 bytes per form (int8, planes)           act scales     G * ldsa floats, ldsa = ceil(M/4)*4
 *   output y          M * R floats (or fp16/bf16, OutputType)             partials       M * R * G ints
 * </pre>
 * Launches are asynchronous on the default stream, or on the stream of a view made by {@link #on}; errors in
 * arguments are checked on launch, faults inside kernels surface at the next synchronizing call (a copy), named
 * by that call.
 */
public final class FlexqKernels {

    private final CudaDevice device;
    private final KernelModule module;
    private final CUstream_st stream;
    private final boolean programmatic;

    FlexqKernels(CudaDevice device, KernelModule module) {
        this(device, module, null, false);
    }

    private FlexqKernels(CudaDevice device, KernelModule module, CUstream_st stream, boolean programmatic) {
        this.device = device;
        this.module = module;
        this.stream = stream;
        this.programmatic = programmatic;
    }

    /** The same kernels launching on {@code stream} (captured into a CUDA graph while that stream captures). */
    public FlexqKernels on(CUstream_st stream) {
        return new FlexqKernels(device, module, stream, programmatic);
    }

    /**
     * The same kernels launched with programmatic dependent launch (sm_90+): each may be scheduled while the kernel
     * before it finishes and waits for it in {@code pdl_wait()} (flexq.cu), which hides launch gaps and lets the
     * decode GEMVs stream weights early. Every entry point of the program calls pdl_wait() before reading what an
     * earlier kernel wrote, so this is safe for any sequence of launches. Other devices: unchanged.
     */
    FlexqKernels programmatic() {
        return device.computeCapability() >= 90 ? new FlexqKernels(device, module, stream, true) : this;
    }

    CUstream_st stream() {
        return stream;
    }

    KernelModule module() {
        return module;
    }

    /** Where the cubin came from (for logs). */
    public String origin() {
        return module.origin();
    }

    public CudaDevice device() {
        return device;
    }

    public static int groups(int cols) {
        return (cols + 127) / 128;
    }

    public static int ldsa(int tokens) {
        return (tokens + 3) / 4 * 4;
    }

    public static long tileBytes(int rows, int cols) {
        return (long) ((rows + 15) / 16) * groups(cols) * 1536;
    }

    public static long scaleTileBytes(int rows, int cols) {
        return (long) ((rows + 15) / 16) * groups(cols) * 32;
    }

    public static long actBytes(int tokens, int cols) {
        return (long) tokens * groups(cols) * 128;
    }

    public static long actScaleBytes(int tokens, int cols) {
        return (long) groups(cols) * ldsa(tokens) * 4;
    }

    /** Quantizes {@code x} (M rows of ldx floats) to A6 or A8: int8 records and/or plane records, and scales. */
    public void quantize(int bits, DeviceBuffer x, int ldx, int tokens, int cols, DeviceBuffer int8, DeviceBuffer planes, DeviceBuffer sa) {
        quantize(bits, false, x, ldx, tokens, cols, int8, planes, sa);
    }

    /**
     * As above; {@code natural} writes the int8 records in natural k order (flexq.cu's {@code _nat} quantizers), the
     * form the wgmma kernels read together with the I8 weight tiles. The planes form has one order only.
     */
    public void quantize(int bits, boolean natural, DeviceBuffer x, int ldx, int tokens, int cols, DeviceBuffer int8, DeviceBuffer planes,
                         DeviceBuffer sa) {
        if (natural && planes != null) {
            throw new IllegalArgumentException("natural-order records exist for the int8 form only, not for bit planes");
        }
        String name = switch (bits) {
            case 6 -> "flexq_quantize_a6";
            case 8 -> "flexq_quantize_a8";
            default -> throw new IllegalArgumentException("activation bits must be 6 or 8, got " + bits);
        } + (natural ? "_nat" : "");
        int g = groups(cols);
        long warps = (long) tokens * g;
        launch(name, 0, (int) ((warps * 32 + 255) / 256), 1, 1, 256,
                () -> name + " M=" + tokens + " K=" + cols,
                x.address(), ldx, tokens, cols, g, addr(int8), addr(planes), sa.address(), ldsa(tokens));
    }

    /** Repacks an FQ6 tensor on the device into the bit-plane and/or int8 tile layouts and the scale tiles. */
    public void repack(DeviceBuffer fq6, int rows, int cols, DeviceBuffer planes, DeviceBuffer int8, DeviceBuffer scales) {
        int g = groups(cols);
        long warps = (long) ((rows + 15) / 16) * g;
        launch("flexq_repack", 0, (int) ((warps * 32 + 255) / 256), 1, 1, 256,
                () -> "flexq_repack R=" + rows + " K=" + cols,
                fq6.address(), rows, cols, g, addr(planes), addr(int8), scales.address());
    }

    /**
     * Repacks an FQ6 tensor into hopper.cu's WG tile layout ({@link #tileBytes} bytes, the wgmma kernels'
     * weights) and, if {@code scales} is not null, the scale tiles (the same as {@link #repack} writes).
     */
    public void repackWg(DeviceBuffer fq6, int rows, int cols, DeviceBuffer wg, DeviceBuffer scales) {
        int g = groups(cols);
        long warps = (long) ((rows + 15) / 16) * g;
        launch("flexq_repack_wg", 0, (int) ((warps * 32 + 255) / 256), 1, 1, 256,
                () -> "flexq_repack_wg R=" + rows + " K=" + cols,
                fq6.address(), rows, cols, g, wg.address(), addr(scales));
    }

    /**
     * {@code y[t][r] = sum_g P[t][r][g] * sw * sa} with kernel {@code spec}; weights and activations in the
     * layout of {@code spec.path()} (WG: WG tiles from {@link #repackWg} and int8 records). {@code partials}
     * non-null selects the kernel's {@code _p} twin, which also writes P. {@code splits} (GEMV only) splits K; then y is zeroed first and the splits add.
     */
    public void gemm(KernelSpec spec, int splits, DeviceBuffer weights, DeviceBuffer scales, DeviceBuffer act, DeviceBuffer sa,
                     DeviceBuffer y, DeviceBuffer partials, int tokens, int rows, int cols) {
        gemm(spec, splits, weights, scales, act, sa, y, partials, tokens, rows, cols, OutputType.F32);
    }

    /**
     * As above with y of element type {@code out}. {@link OutputType#F16} / {@link OutputType#BF16} select the
     * kernel's {@code _f16} / {@code _bf16} twin (INT8-MMA kernels only), which stores the fp32 result rounded
     * to nearest even; they need {@code partials == null} and an unsplit launch (a GEMV whose splits leave one
     * K range), since split-K partial sums cannot be added exactly into 16-bit elements.
     */
    public void gemm(KernelSpec spec, int splits, DeviceBuffer weights, DeviceBuffer scales, DeviceBuffer act, DeviceBuffer sa,
                     DeviceBuffer y, DeviceBuffer partials, int tokens, int rows, int cols, OutputType out) {
        int g = groups(cols);
        int rowTiles = (rows + 15) / 16;
        if (out != OutputType.F32) {
            if (!spec.hasOutputTwins()) {
                throw new IllegalArgumentException(spec.name() + ": " + out + " output exists only for the INT8-MMA kernels");
            }
            if (partials != null) {
                throw new IllegalArgumentException(spec.name() + ": " + out + " output has no partials (_p) variant");
            }
            if (!spec.gemm() && !spec.ordered() && ceilDiv(g, ceilDiv(g, Math.max(1, Math.min(splits, g)))) > 1) {
                throw new IllegalArgumentException(spec.name() + " K=" + cols + " splits=" + splits + ": " + out
                        + " output needs an unsplit launch (split-K sums cannot be added exactly into 16-bit y)");
            }
        }
        if (spec.path() == KernelSpec.Path.WG && device.computeCapability() != 90) {
            throw new IllegalArgumentException(spec.name() + ": the wgmma kernels run on compute capability 9.0 only, this device is "
                    + device.computeCapability());
        }
        boolean deep = spec.ordered() && partials == null && out == OutputType.F32 && KernelSpec.orderedDeep(cols);
        String name = (partials == null ? spec.name() : spec.name() + "_p") + out.suffix() + (deep ? "_deep" : "");
        Supplier<String> ctx = () -> name + " M=" + tokens + " N=" + rows + " K=" + cols + (spec.gemm() || spec.ordered() ? "" : " splits=" + splits);
        if (spec.ordered()) {
            if (tokens > KernelSpec.ORDERED_MAX_TOKENS) {
                throw new IllegalArgumentException(ctx.get() + ": the ordered GEMV takes at most " + KernelSpec.ORDERED_MAX_TOKENS + " tokens");
            }
            launch(name, KernelSpec.orderedSharedBytes(tokens, cols), rowTiles, 1, 1, spec.threads(), ctx,
                    weights.address(), scales.address(), act.address(), sa.address(), ldsa(tokens), y.address(), addr(partials),
                    tokens, rows, g, g);
        } else if (spec.gemm()) {
            launch(name, spec.sharedBytes(), ceilDiv(rows, spec.rows()), ceilDiv(tokens, spec.toks()), 1, spec.threads(), ctx,
                    weights.address(), scales.address(), act.address(), sa.address(), ldsa(tokens), y.address(), addr(partials),
                    tokens, rows, g, g);
        } else {
            int gps = ceilDiv(g, Math.max(1, Math.min(splits, g)));
            int realSplits = ceilDiv(g, gps);
            if (realSplits > 1) {
                device.check(cudart.cudaMemsetAsync(Native.at(y.address()), 0, (long) tokens * rows * out.bytes(), stream), "cudaMemsetAsync", ctx);
            }
            launch(name, 0, ceilDiv(rowTiles, KernelSpec.GEMV_WARPS), realSplits, ceilDiv(tokens, spec.toks()), spec.threads(), ctx,
                    weights.address(), scales.address(), act.address(), sa.address(), ldsa(tokens), y.address(), addr(partials),
                    tokens, rows, g, gps);
        }
    }

    /** W6A16 straight from FQ6 bytes: {@code y[t][r] = sum_k wcode * sw * x[t][k]} in fp32. */
    public void w6a16(DeviceBuffer fq6, int rows, int cols, DeviceBuffer x, int ldx, DeviceBuffer y, int tokens) {
        long warps = (long) tokens * rows;
        launch("flexq_w6a16", 0, (int) ((warps * 32 + 255) / 256), 1, 1, 256,
                () -> "flexq_w6a16 M=" + tokens + " N=" + rows + " K=" + cols,
                fq6.address(), rows, cols, groups(cols), x.address(), ldx, y.address(), tokens);
    }

    private static long addr(DeviceBuffer b) {
        return b == null ? 0L : b.address();
    }

    static int ceilDiv(long a, long b) {
        return Math.toIntExact((a + b - 1) / b);
    }

    /**
     * cuLaunchKernel with arguments given as Java longs (device addresses) and ints. Each argument gets
     * an 8-byte native slot (ints in its low half: little-endian), and the kernel-parameter array
     * ({@code new PointerPointer(n)}, filled with {@code put}; {@code new PointerPointer(pointer)} would be a
     * cast) holds the slots' addresses.
     */
    void launch(String name, int smem, int gx, int gy, int gz, int threads, Supplier<String> ctx, Object... args) {
        if (gx <= 0 || gy <= 0 || gz <= 0) {
            return;  // empty problem
        }
        if (gy > 65535 || gz > 65535) {
            throw new IllegalArgumentException(ctx.get() + ": grid " + gx + " x " + gy + " x " + gz + " exceeds the CUDA limit of 65535 in y and z");
        }
        CUfunc_st fn = module.function(name, smem);
        try (LongPointer slots = new LongPointer(args.length); PointerPointer<?> params = new PointerPointer<>(args.length)) {
            for (int i = 0; i < args.length; i++) {
                long v = switch (args[i]) {
                    case Long l -> l;
                    case Integer n -> n & 0xFFFFFFFFL;
                    case Float f -> Float.floatToRawIntBits(f) & 0xFFFFFFFFL;
                    default -> throw new IllegalArgumentException("kernel argument " + i + " of " + name + ": " + args[i]);
                };
                slots.put(i, v);
                params.put(i, Native.at(slots.address() + 8L * i));
            }
            if (programmatic) {
                try (CUlaunchConfig cfg = new CUlaunchConfig(); CUlaunchAttribute attr = new CUlaunchAttribute()) {
                    attr.id(cudart.CU_LAUNCH_ATTRIBUTE_PROGRAMMATIC_STREAM_SERIALIZATION);
                    attr.value().programmaticStreamSerializationAllowed(1);
                    cfg.gridDimX(gx).gridDimY(gy).gridDimZ(gz).blockDimX(threads).blockDimY(1).blockDimZ(1).sharedMemBytes(smem)
                            .hStream(stream).attrs(attr).numAttrs(1);
                    device.check(cudart.cuLaunchKernelEx(cfg, fn, params, (PointerPointer<?>) null), "cuLaunchKernelEx", ctx);
                }
                return;
            }
            // the PointerPointer overload passes the array itself; the Pointer overload is @ByPtrPtr (it would
            // pass the address of a local holding the array, and a non-null "extra")
            device.check(cudart.cuLaunchKernel(fn, gx, gy, gz, threads, 1, 1, smem, stream, params, (PointerPointer<?>) null),
                    "cuLaunchKernel", ctx);
        }
    }
}
