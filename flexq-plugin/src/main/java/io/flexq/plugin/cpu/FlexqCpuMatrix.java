package io.flexq.plugin.cpu;

import io.flexq.plugin.quant.ActivationMode;
import io.flexq.plugin.quant.ActivationQuantizer;
import io.flexq.plugin.quant.FlexqWeights;
import io.flexq.plugin.quant.QuantizedActivations;
import io.flexq.runtime.cpu.PoolLease;
import io.flexq.runtime.cpu.SpinTeam;
import io.flexq.runtime.spi.ActivationBatch;
import io.flexq.runtime.spi.IntegerPartials;
import io.flexq.runtime.spi.WeightMatrix;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.concurrent.ForkJoinPool;
import java.util.function.Supplier;

/**
 * An FQ6 matrix on the CPU in one activation mode. W6A6 / W6A8: the input batch is quantized once per
 * mode (a derived form of the batch, shared by every matrix reading the same input, e.g. q, k and v),
 * then the exact integer kernel ({@link Int6Kernels}) runs over blocks of rows in parallel; outputs are
 * bit-identical to {@link IntegerReference#matmul}. W6A16: the input is copied once into a padded fp32
 * form, shared the same way, and multiplied with the dequantized weights (equal to the reference within
 * fp32 rounding).
 */
public final class FlexqCpuMatrix implements WeightMatrix, IntegerPartials {

    /** A thread that never runs: a segment it may access is not confined to any thread. */
    private static final Thread PROBE = Thread.ofVirtual().unstarted(() -> { });

    /** Derived-form key of the zero-padded fp32 copy of a batch used by W6A16. */
    private record PaddedInput(int paddedCols) {
    }

    /** Derived-form key of a batch's activation codes widened to fp32 (what the kernel multiplies). */
    private record FloatCodes(ActivationMode mode) {
    }

    private final String name;
    private final ActivationMode mode;
    private final PoolLease.Hold hold;
    private final ForkJoinPool pool;
    /** Runs one-token matmuls when the lease has one, else {@link #pool} does. */
    private final SpinTeam team;
    /** The Vector API kernels, or null when {@link #fast} runs this matrix. */
    private final Int6Kernels kernels;
    /** The native kernels (W6A6 / W6A8 where the library loads), or null. */
    private final NativeInt6Kernels fast;
    private final int rows;
    private final int cols;
    private final int groups;
    private final int padded;
    /** Re-decodes the plain form on request (from the mapped file), so it is not held twice in memory. */
    private final Supplier<FlexqWeights> weights;
    /**
     * The native kernel does about this many times the work of the Vector API one in the same time, so the
     * threshold below which a matmul runs on the calling thread ({@link RowParallel}) counts its work divided by it.
     */
    private static final int NATIVE_SPEEDUP = 4;

    /** A matrix that keeps {@code weights} for {@link #weights()}. */
    public FlexqCpuMatrix(String name, FlexqWeights weights, ActivationMode mode, ForkJoinPool pool) {
        this(name, weights, () -> weights, mode, pool);
    }

    /**
     * A matrix built from {@code weights} that keeps only its kernel layout; {@code source} gives the plain
     * form again when asked (e.g. by decoding the FQ6 bytes of a mapped file).
     */
    public FlexqCpuMatrix(String name, FlexqWeights weights, Supplier<FlexqWeights> source, ActivationMode mode, ForkJoinPool pool) {
        this(name, weights, source, mode, PoolLease.borrowed(pool).acquire());
    }

    /** As above, on a leased pool: {@link #close()} gives the hold back (the pool's last holder shuts it down). */
    FlexqCpuMatrix(String name, FlexqWeights weights, Supplier<FlexqWeights> source, ActivationMode mode, PoolLease.Hold hold) {
        this(name, weights, source, mode, hold, NativeFq6.get().level());
    }

    /**
     * As above with the kernel chosen by the caller: {@code level} NONE runs the Vector API kernels, AVX2 or
     * AVX512_VNNI the native ones at that level (W6A6 / W6A8; W6A16 always runs the Vector API kernels).
     */
    FlexqCpuMatrix(String name, FlexqWeights weights, Supplier<FlexqWeights> source, ActivationMode mode, PoolLease.Hold hold,
                   NativeFq6.Level level) {
        this.name = name;
        this.mode = mode;
        this.hold = hold;
        this.pool = hold.pool();
        this.team = hold.team();
        boolean useNative = mode.quantized() && level != NativeFq6.Level.NONE;
        this.fast = useNative ? new NativeInt6Kernels(weights, NativeFq6.get(), level, Arena.ofAuto()) : null;
        this.kernels = useNative ? null : new Int6Kernels(weights);
        this.rows = weights.rows();
        this.cols = weights.cols();
        this.groups = weights.groups();
        this.padded = weights.paddedCols();
        this.weights = source;
    }

    @Override
    public void close() {
        hold.close();
    }

    @Override
    public java.util.Optional<SpinTeam> decodeTeam() {
        return java.util.Optional.ofNullable(team);
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

    public ActivationMode activationMode() {
        return mode;
    }

    /** Codes and scales, for a backend that repacks them (e.g. CUDA); may decode them again. */
    public FlexqWeights weights() {
        return weights.get();
    }

    /** Bytes of the kernel's resident form of the weights (what a decode step reads). */
    public long residentBytes() {
        return fast != null ? fast.residentBytes() : kernels.residentBytes();
    }

    @Override
    public String describe() {
        String how = fast != null ? "native " + fast.level() + ", exact int32 products" : Int6Kernels.vectorDescription();
        long resident = residentBytes();
        return "flexq-cpu FQ6 W6" + mode + " (" + how + ", " + pool.getParallelism() + " threads, "
                + resident / (1 << 20) + " MiB resident)";
    }

    @Override
    public void matmul(ActivationBatch in, ActivationBatch out) {
        WeightMatrix.checkShapes(this, in, out);
        int tokens = in.tokens();
        if (fast != null) {
            QuantizedActivations a = quantized(in);
            // straight into out.data() when every thread may write it (a prompt's output is megabytes: a heap
            // array and a copy cost about a third of a 27M model's prompt matmul); else a heap array, then a copy
            boolean direct = out.data().isAccessibleBy(PROBE);
            float[] y = direct ? null : new float[Math.multiplyExact(tokens, rows)];
            MemorySegment ys = direct ? out.data() : MemorySegment.ofArray(y);
            RowParallel.RowRange body = (from, to) -> fast.gemm(a, from, to, ys, rows, 0, rows, null);
            long work = (long) tokens * padded * NativeInt6Kernels.RB / NATIVE_SPEEDUP;
            if (team != null && tokens < 4) {
                // one token: whole decode tiles (4 blocks) per chunk
                RowParallel.forTasks(team, fast.tasks, work, NativeInt6Kernels.DECODE_BLOCKS, body);
            } else if (team != null) {
                // a prompt's tiles are 2 blocks; rows and, on many threads, token ranges
                RowParallel.forTasksAndTokens(team, fast.tasks, tokens, work, 2,
                        (from, to, t0, t1) -> fast.gemm(a, t0, t1, from, to, ys, rows, 0, rows, null));
            } else {
                parallel(tokens, fast.tasks, work, body);
            }
            if (!direct) {
                MemorySegment.copy(y, 0, out.data(), ValueLayout.JAVA_FLOAT, 0, y.length);
            }
            out.changed();
            return;
        }
        float[] y = new float[Math.multiplyExact(tokens, rows())];
        long workPerTask = (long) tokens * kernels.padded * 2 * Int6Kernels.RB;
        if (mode == ActivationMode.A16) {
            float[] x = in.derived(new PaddedInput(kernels.padded), FlexqCpuMatrix::padded);
            parallel(tokens, kernels.tasks, workPerTask, (from, to) -> kernels.gemmF32(x, tokens, from, to, y));
        } else {
            QuantizedActivations a = quantized(in);
            float[] af = floatCodes(in, a);
            parallel(tokens, kernels.tasks, workPerTask, (from, to) -> kernels.gemmInt(af, a.scalesArray(), tokens, from, to, y, null));
        }
        MemorySegment.copy(y, 0, out.data(), ValueLayout.JAVA_FLOAT, 0, y.length);
        out.changed();
    }

    /**
     * On the lease's spinning team when it has one (decode: no wake-ups per matmul; a prompt: the threads of its
     * norms and attention, so no second set of threads takes turns with them on the cores), else the pool.
     */
    private void parallel(int tokens, int tasks, long workPerTask, RowParallel.RowRange body) {
        if (team != null) {
            RowParallel.forTasks(team, tasks, workPerTask, body);
        } else {
            RowParallel.forTasks(pool, tasks, workPerTask, body);
        }
    }

    /**
     * Rows [rowFrom, rowTo) on the calling thread: only the kernel tasks (pairs of row blocks) that hold
     * those rows run, so the cost is proportional to the range. Outputs are bit-identical to the same rows
     * of {@link #matmul(ActivationBatch, ActivationBatch)} (W6A6 / W6A8: the integer kernel is exact and
     * its epilogue per row fixed; W6A16: the per-row summation order does not depend on the range).
     * The input is quantized (or padded) as a derived form of {@code in}: callers that run several ranges
     * over one batch from several threads should give each thread its own batch.
     */
    @Override
    public void matmul(ActivationBatch in, ActivationBatch out, int rowFrom, int rowTo) {
        WeightMatrix.checkRowRange(this, in, out, rowFrom, rowTo);
        int tokens = in.tokens();
        if (rowFrom < rowTo && fast != null) {
            fast.gemm(quantized(in), fast.taskOf(rowFrom), fast.taskOf(rowTo - 1) + 1,
                    out.data().asSlice(out.offsetOf(0, rowFrom)), rows, rowFrom, rowTo, null);
        } else if (rowFrom < rowTo) {
            float[] y = new float[Math.multiplyExact(tokens, rowTo - rowFrom)];
            int from = kernels.taskOf(rowFrom), to = kernels.taskOf(rowTo - 1) + 1;
            if (mode == ActivationMode.A16) {
                float[] x = in.derived(new PaddedInput(kernels.padded), FlexqCpuMatrix::padded);
                kernels.gemmF32Rows(x, tokens, from, to, y, rowFrom, rowTo);
            } else {
                QuantizedActivations a = quantized(in);
                kernels.gemmIntRows(floatCodes(in, a), a.scalesArray(), tokens, from, to, y, rowFrom, rowTo);
            }
            int n = rowTo - rowFrom;
            for (int t = 0; t < tokens; t++) {
                MemorySegment.copy(y, t * n, out.data(), ValueLayout.JAVA_FLOAT, out.offsetOf(t, rowFrom), n);
            }
        }
        out.changed();
    }

    /**
     * The integer partials {@code P[t][r][g]} of this matrix's fast kernel for {@code in}, index
     * {@code (t * rows + r) * groups + g} (for conformance tests; W6A6 / W6A8 only).
     */
    public int[] partials(ActivationBatch in) {
        if (mode == ActivationMode.A16) {
            throw new IllegalStateException(name + ": W6A16 has no integer partials");
        }
        QuantizedActivations a = quantized(in);
        int[] p = new int[Math.multiplyExact(Math.multiplyExact(a.tokens(), rows()), groups)];
        if (fast != null) {
            float[] y = new float[Math.max(1, a.tokens() * rows())];
            RowParallel.forTasks(pool, fast.tasks, (long) a.tokens() * padded * NativeInt6Kernels.RB,
                    (from, to) -> fast.gemm(a, from, to, MemorySegment.ofArray(y), rows, 0, rows, p));
            return p;
        }
        float[] af = floatCodes(in, a);
        float[] y = new float[a.tokens() * rows()];
        RowParallel.forTasks(pool, kernels.tasks, (long) a.tokens() * kernels.padded * 2 * Int6Kernels.RB,
                (from, to) -> kernels.gemmInt(af, a.scalesArray(), a.tokens(), from, to, y, p));
        return p;
    }

    @Override
    public java.util.Optional<int[]> integerPartials(ActivationBatch in) {
        return mode.quantized() ? java.util.Optional.of(partials(in)) : java.util.Optional.empty();
    }

    /** The input quantized in this matrix's mode: computed once per batch contents and shared. */
    public QuantizedActivations quantized(ActivationBatch in) {
        if (in.dim() != cols()) {
            throw new IllegalArgumentException(name + ": input has dim " + in.dim() + ", matrix has " + cols() + " columns");
        }
        return in.derived(new QuantizedActivations.Key(mode), b -> fast != null && NativeFq6.get().quantizes()
                ? nativeQuantize(b, mode, team, true) : ActivationQuantizer.quantize(b, mode));
    }

    /** {@link ActivationQuantizer#quantize} by the native kernel (bit for bit; KernelPathsTest). */
    static QuantizedActivations nativeQuantize(ActivationBatch b, ActivationMode mode) {
        return nativeQuantize(b, mode, null, false);
    }

    /** A prompt at least this long is quantized in token ranges on the team (a 512 x 512 batch: about 0.3 ms alone). */
    static final int PARALLEL_QUANTIZE_TOKENS = 16;

    /**
     * As above, on {@code team} in token ranges when given: each token is quantized alone, so the split changes no
     * bits. The batch is read in place where every thread may read it (a shared arena), else from a heap copy.
     * With {@code reuse}, the arrays of the batch's previous form in this mode are reused when they fit (a derived
     * form is valid until the batch changes: {@link ActivationBatch#spare}).
     */
    static QuantizedActivations nativeQuantize(ActivationBatch b, ActivationMode mode, SpinTeam team, boolean reuse) {
        int tokens = b.tokens(), cols = b.dim(), groups = Math.ceilDiv(cols, 128);
        long bytes = 4L * Math.multiplyExact(tokens, cols);
        MemorySegment x = b.data().isAccessibleBy(PROBE) ? b.data().asSlice(0, bytes)
                : MemorySegment.ofArray(new float[tokens * cols]).copyFrom(b.data().asSlice(0, bytes));
        Object spareKey = new QuantizedActivations.Key(mode);  // the arrays the last form under this key left (ActivationBatch.spare)
        QuantizedActivations old = reuse && b.spare(spareKey) instanceof QuantizedActivations q && q.tokens() == tokens
                && q.cols() == cols ? q : null;
        byte[] codes = old != null ? old.codesArray() : new byte[Math.multiplyExact(tokens, groups * 128)];
        float[] scales = old != null ? old.scalesArray() : new float[tokens * groups];
        int[] sums = old != null && old.codeSumsArray() != null ? old.codeSumsArray() : new int[tokens * groups];
        int chunks = team == null || team.threads() < 2 || tokens < PARALLEL_QUANTIZE_TOKENS ? 1 : Math.min(tokens, 4 * team.threads());
        java.util.function.IntConsumer range = i -> {
            int t0 = (int) ((long) tokens * i / chunks), t1 = (int) ((long) tokens * (i + 1) / chunks);
            NativeFq6.get().quantize(x, t0, t1, cols, mode.qmax(), codes, scales, sums);
        };
        if (chunks == 1) {
            range.accept(0);
        } else {
            team.run(chunks, range);
        }
        QuantizedActivations made = ActivationQuantizer.fromCodes(mode, tokens, cols, codes, scales, sums);
        if (reuse) {
            b.keepSpare(spareKey, made);
        }
        return made;
    }

    private float[] floatCodes(ActivationBatch in, QuantizedActivations a) {
        return in.derived(new FloatCodes(mode), b -> {
            byte[] c = a.codesArray();
            float[] f = new float[c.length];
            for (int i = 0; i < c.length; i++) {
                f[i] = c[i];
            }
            return f;
        });
    }

    private static float[] padded(ActivationBatch b) {
        int padded = (b.dim() + 127) / 128 * 128;
        float[] x = new float[Math.multiplyExact(b.tokens(), padded)];
        for (int t = 0; t < b.tokens(); t++) {
            MemorySegment.copy(b.data(), ValueLayout.JAVA_FLOAT, b.offsetOf(t, 0), x, t * padded, b.dim());
        }
        return x;
    }
}
