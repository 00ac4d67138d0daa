package io.flexq.runtime.cpu;

import io.flexq.runtime.spi.ActivationBatch;
import io.flexq.runtime.spi.TensorType;
import io.flexq.runtime.spi.WeightMatrix;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;
import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.RecursiveAction;
import java.util.function.Consumer;

/**
 * A weight matrix of the built-in CPU backend: the stored bytes (a reference to the mapped file, no copy)
 * and the kernel of its type. Output rows are split into chunks that run on the lease's {@link SpinTeam}, or on a
 * {@link ForkJoinPool} where the lease has none (the same chunks). Prompts run on the team too: the threads of a
 * prompt's norms and attention then also run its matmuls, so two thread sets never take turns on the cores (with
 * the matmuls on the pool, a two-thread prompt barely gained on one thread: bench/results/cpu-vs-llamacpp.md).
 *
 * <p>One token (a decode step) runs one dot product per row, each weight byte read once and decoded in
 * registers (Q6_K: through a 256-float L1 scratch).
 * A batch (prefill) runs a blocked GEMM: a worker decodes a panel of {@value #ROW_BLOCK} rows x up to
 * {@value #PANEL} columns to fp32 once, then multiplies it with every token of the batch (4 rows x 2 tokens
 * per step: 6 vector loads feed 8 FMAs), in tiles of {@value #TOKEN_TILE} tokens so their activations stay in cache. Sums are
 * fp32: each output is a sum of per-panel vector-lane partial sums, in an order that does not depend on the
 * number of threads (chunks start at multiples of the row block). With 16-lane vectors and the native library the
 * 4-row groups run in {@link NativeGemm} instead (4 rows x 4 tokens a step, the same order of operations, the same bits).
 * Q8_0, Q4_0 and Q6_K prompts of at least {@value NativeQ8#MIN_TOKENS} tokens run with 8-bit activations where the CPU has
 * AVX-512 VNNI ({@link NativeQ8}: llama.cpp's numerics, not the fp32 GEMM's bits), and one-token Q4_0 and Q6_K steps
 * with the same 8-bit codes of the token ({@link Int8Gemv}; {@code -Dflexq.cpu.q8Decode=f32} keeps the fp32 kernels);
 * BF16 prompts of at least {@value NativeBf16#MIN_TOKENS} tokens with bf16 activations where the CPU has AVX-512 BF16
 * ({@link NativeBf16}: likewise llama.cpp's numerics).
 *
 * <p>Pool threads must be able to read the segments: activations in a confined arena are copied to and from
 * heap buffers around a parallel call (O(tokens * (rows + cols)), small next to the product); weights in a
 * confined arena make every call run on the caller's thread.
 */
public final class CpuMatrix implements WeightMatrix {

    static final int ROW_BLOCK = 16;
    static final int PANEL = 512;
    static final int TOKEN_TILE = 32;
    /** Below this many multiply-adds a call runs on the caller's thread: forking would cost more. */
    static final long SERIAL_WORK = 1 << 17;
    /**
     * The same for a one-token matmul on a spinning team: a hand-off there costs about a microsecond (no wake-up),
     * so a 256 x 512 decode matmul (a small model's key/value projection) is worth splitting.
     */
    static final long TEAM_SERIAL_WORK = 1 << 15;
    /**
     * Chunks per thread of a one-token matmul (where the work allows): a thread that finishes its last chunk waits for
     * the others' last ones, on average about half a chunk: with four chunks a thread (the prompt's split) that is about
     * a sixteenth of a two-thread matmul with one core idle, at 8B (decode matmuls of 1-30 ms) hundreds of microseconds.
     */
    static final int DECODE_CHUNKS = 16;
    /** Each parallel chunk should hold at least this many multiply-adds. */
    static final long CHUNK_WORK = 1 << 16;

    private final String name;
    private final TensorType type;
    private final int rows;
    private final int cols;
    private final MemorySegment data;
    private final RowKernel kernel;
    /** The native one-token loop bit-identical to {@link #kernel} (NativeGemv), or null. */
    private final java.lang.invoke.MethodHandle fastGemv;
    private final PoolLease.Hold hold;
    private final ForkJoinPool pool;
    /** Runs one-token matmuls when the lease has one, else {@link #pool} does. */
    private final SpinTeam team;
    private final int panel;
    /** Q8_0, Q4_0 and Q6_K prompts run with 8-bit activations ({@link NativeQ8}) instead of the fp32 GEMM. */
    private final boolean int8Prompts;
    /** One-token Q4_0 and Q6_K steps run with 8-bit activations ({@link Int8Gemv}) instead of the fp32 kernels. */
    private final boolean int8Decode;
    /** BF16 prompts run with bf16 activations ({@link NativeBf16}) instead of the fp32 GEMM. */
    private final boolean bf16Prompts;
    /**
     * F16 or BF16 weights whose fp32 GEMM panels the native code widens from the mapped rows (NativeGemm.halves): their
     * GGUF type id, else 0. Decoding them into a Java array took 8% of a one-thread F16 prompt, and, under the Vector
     * API, kept prompts slow until the JIT had compiled the decoder (bench/results/cpu-vs-llamacpp.md, 2026-12-07 f16pre).
     */
    private final int halfKind;

    CpuMatrix(String name, TensorType type, int rows, int cols, MemorySegment data, PoolLease.Hold hold) {
        this.name = name;
        this.type = type;
        this.rows = rows;
        this.cols = cols;
        this.data = data;
        this.kernel = RowKernel.of(type, cols);
        this.fastGemv = NativeGemv.forKernel(kernel).orElse(null);
        this.hold = hold;
        this.pool = hold.pool();
        this.team = hold.team();
        int align = kernel.panelAlign();
        // a panel is a whole number of blocks: PANEL (a multiple of 256) when blocks are small, else the whole row
        this.int8Prompts = (kernel instanceof Q8_0Kernel || kernel instanceof Q4_0Kernel || kernel instanceof Q6_KKernel) && NativeQ8.available();
        this.int8Decode = Int8Gemv.runs(type);
        this.bf16Prompts = kernel instanceof BF16Kernel && NativeBf16.available();
        this.halfKind = kernel instanceof F16Kernel ? NativeGemm.F16 : kernel instanceof BF16Kernel ? NativeGemm.BF16 : 0;
        this.panel = cols <= PANEL || align > PANEL || PANEL % align != 0 ? cols : PANEL;
    }

    @Override public String name() { return name; }

    /** Gives back this matrix's hold on the pool (the last holder of a backend-made pool shuts it down). */
    @Override
    public void close() {
        hold.close();
    }

    @Override public int rows() { return rows; }
    @Override public int cols() { return cols; }
    public TensorType type() { return type; }

    @Override
    public java.util.Optional<SpinTeam> decodeTeam() {
        return java.util.Optional.ofNullable(team);
    }

    /** The stored bytes, as given at load (not copied). */
    public MemorySegment data() {
        return data;
    }

    @Override
    public String describe() {
        return "cpu " + type.name() + " " + rows + "x" + cols + " (" + kernel.kind() + (int8Decode ? ", int8-activation decode" + (Int8Gemv.nativeFor(type) ? " (native)" : " (Java)")
                : fastGemv != null ? ", native one-token loop" : "") + (int8Prompts ? ", int8-activation prompts" : "") + (bf16Prompts ? ", bf16-activation prompts" : "") + ", " + Simd.describe()
                + ", " + pool.getParallelism() + " threads)";
    }

    @Override
    public void matmul(ActivationBatch in, ActivationBatch out) {
        WeightMatrix.checkShapes(this, in, out);
        if (in.data().asOverlappingSlice(out.data()).isPresent()) {
            throw new IllegalArgumentException(name + ": input and output batches share memory");
        }
        int tokens = in.tokens();
        long work = (long) rows * cols * tokens;
        if (int8Prompts && tokens >= NativeQ8.MIN_TOKENS) {
            NativeQ8.Codes a = NativeQ8.codes(in, team);
            matmulNative(in, out, work, (r0, r1, y) -> NativeQ8.gemm(type, data, type.rowBytes(cols), cols, r0, r1, a, y, rows));
            return;
        }
        if (bf16Prompts && tokens >= NativeBf16.MIN_TOKENS) {
            NativeBf16.Activations a = NativeBf16.activations(in, team);
            matmulNative(in, out, work, (r0, r1, y) -> NativeBf16.gemm(data, type.rowBytes(cols), cols, r0, r1, a, y, rows));
            return;
        }
        boolean onTeam = team != null;
        // one token of Q4_0 / Q6_K: its 8-bit codes, once for every row chunk (and every matrix that reads this batch)
        NativeQ8.Codes codes = int8Decode && tokens == 1 ? NativeQ8.codes(in, null) : null;
        if (work < (onTeam ? TEAM_SERIAL_WORK : SERIAL_WORK) || pool.getParallelism() <= 1 || !shareable(data)) {
            compute(0, rows, in.data(), tokens, out.data(), codes);
        } else {
            // pool threads cannot touch a confined segment: stage such activations through heap copies
            MemorySegment x = shareable(in.data()) ? in.data() : heapCopy(in.data(), 4L * tokens * cols);
            int grain = grain(tokens, ROW_BLOCK);
            intoShareable(out, tokens, y -> {
                if (onTeam) {
                    // the same row ranges as the fork-join split, handed to the spinning team (no wake-ups per matmul)
                    int[] bounds = chunkBounds(rows, grain);
                    team.run(bounds.length - 1, i -> compute(bounds[i], bounds[i + 1], x, tokens, y, codes));
                } else {
                    pool.invoke(new Chunk((r0, r1) -> compute(r0, r1, x, tokens, y, codes), 0, rows, grain));
                }
            });
        }
        out.changed();
    }

    /** Rows [r0, r1) of a prompt's product, written into y (token t's row r at float {@code t * rows + r}). */
    @FunctionalInterface
    private interface PromptRows {
        void run(int r0, int r1, MemorySegment y);
    }

    /**
     * A prompt on a native kernel with its own activation form (Q8_0, Q4_0 or Q6_K with 8-bit activations, {@link NativeQ8};
     * BF16 with bf16 activations, {@link NativeBf16}), made once per batch by the caller: rows split over the team or
     * else the pool.
     */
    private void matmulNative(ActivationBatch in, ActivationBatch out, long work, PromptRows body) {
        if (work < SERIAL_WORK || pool.getParallelism() <= 1 || !shareable(data)) {
            body.run(0, rows, out.data());
        } else {
            int grain = grain(in.tokens(), 2 * ROW_BLOCK);
            intoShareable(out, in.tokens(), y -> {
                RowRange into = (r0, r1) -> body.run(r0, r1, y);
                if (team != null) {
                    int[] bounds = chunkBounds(rows, grain);
                    team.run(bounds.length - 1, i -> into.run(bounds[i], bounds[i + 1]));
                } else {
                    pool.invoke(new Chunk(into, 0, rows, grain));
                }
            });
        }
        out.changed();
    }

    /**
     * Rows per parallel chunk for a batch of {@code tokens}: at least {@link #CHUNK_WORK} multiply-adds, at least four
     * chunks per pool thread ({@value #DECODE_CHUNKS} for one token), a multiple of {@code align}.
     */
    private int grain(int tokens, int align) {
        long perRow = (long) cols * tokens;
        int byWork = (int) Math.min(rows, Math.max(1, CHUNK_WORK / perRow));
        int byBalance = Math.ceilDiv(rows, (tokens == 1 ? DECODE_CHUNKS : 4) * pool.getParallelism());
        return roundUp(Math.max(byWork, byBalance), align);
    }

    /**
     * body(y) with y = out's segment, or where pool threads cannot write it (a confined arena) a heap buffer that is
     * copied into out afterwards.
     */
    private void intoShareable(ActivationBatch out, int tokens, Consumer<MemorySegment> body) {
        MemorySegment y = shareable(out.data()) ? out.data() : MemorySegment.ofArray(new byte[Math.toIntExact(4L * tokens * rows)]);
        body.accept(y);
        if (y != out.data()) {
            MemorySegment.copy(y, 0, out.data(), 0, y.byteSize());
        }
    }

    /**
     * Rows [rowFrom, rowTo) on the calling thread, straight into {@code out} (the kernels write row r of
     * token t at {@code t * rows + r}, which is out's layout). Bit-identical to {@link #matmul(ActivationBatch,
     * ActivationBatch)} when rowFrom is a multiple of {@value #ROW_BLOCK}; otherwise rows may take another
     * kernel variant (4-row vs 1-row) and differ by rounding.
     */
    @Override
    public void matmul(ActivationBatch in, ActivationBatch out, int rowFrom, int rowTo) {
        WeightMatrix.checkRowRange(this, in, out, rowFrom, rowTo);
        if (in.data().asOverlappingSlice(out.data()).isPresent()) {
            throw new IllegalArgumentException(name + ": input and output batches share memory");
        }
        if (rowFrom < rowTo && int8Prompts && in.tokens() >= NativeQ8.MIN_TOKENS) {
            NativeQ8.gemm(type, data, type.rowBytes(cols), cols, rowFrom, rowTo, NativeQ8.codes(in, null), out.data(), rows);
        } else if (rowFrom < rowTo && bf16Prompts && in.tokens() >= NativeBf16.MIN_TOKENS) {
            NativeBf16.gemm(data, type.rowBytes(cols), cols, rowFrom, rowTo, NativeBf16.activations(in, null), out.data(), rows);
        } else if (rowFrom < rowTo) {
            NativeQ8.Codes codes = int8Decode && in.tokens() == 1 ? NativeQ8.codes(in, null) : null;
            compute(rowFrom, rowTo, in.data(), in.tokens(), out.data(), codes);
        }
        out.changed();
    }

    /**
     * Rows [r0, r1) of the product: fused dot products for one token (with 8-bit activations when {@code codes}, the
     * token's, are given), the blocked GEMM for more.
     */
    private void compute(int r0, int r1, MemorySegment x, int tokens, MemorySegment y, NativeQ8.Codes codes) {
        if (codes != null) {
            Int8Gemv.gemv(type, data, type.rowBytes(cols), cols, r0, r1, codes, y);
        } else if (tokens == 1) {
            gemv(r0, r1, x, y);
        } else {
            gemm(r0, r1, x, tokens, y);
        }
    }

    /** A thread that never runs: a segment it may access is not confined to any thread. */
    private static final Thread PROBE = Thread.ofVirtual().unstarted(() -> { });

    private static boolean shareable(MemorySegment s) {
        return s.isAccessibleBy(PROBE);
    }

    private static MemorySegment heapCopy(MemorySegment s, long bytes) {
        return MemorySegment.ofArray(new byte[Math.toIntExact(bytes)]).copyFrom(s.asSlice(0, bytes));
    }

    /** One token: {@code y[r] = dot(W[r], x)} for rows [r0, r1). */
    private void gemv(int r0, int r1, MemorySegment x, MemorySegment y) {
        if (fastGemv != null) {
            NativeGemv.gemv(fastGemv, data, type.rowBytes(cols), cols, r0, r1, x, y);
            return;
        }
        float[] scratch = new float[kernel.scratchFloats()];
        for (int r = r0; r < r1; r++) {
            y.set(ValueLayout.JAVA_FLOAT_UNALIGNED, 4L * r, kernel.dot(data, r, x, 0, scratch));
        }
    }

    /**
     * Rows [r0, r1) for every token: {@code y[t][r] = sum_c W[r][c] * x[t][c]}, x and y row-major by token.
     * Loop nest: row block (16) / column panel / token tile (32) / 4 rows / 2 tokens.
     */
    private void gemm(int r0, int r1, MemorySegment x, int tokens, MemorySegment y) {
        gemm(r0, r1, x, tokens, y, NativeGemm.available());
    }

    /**
     * All rows for every token on the calling thread, with the native panel loop or (false) the Vector API one
     * only: the two are bit-identical (NativeGemmTest).
     */
    void gemmOnCaller(ActivationBatch in, ActivationBatch out, boolean nativePanels) {
        WeightMatrix.checkShapes(this, in, out);
        gemm(0, rows, in.data(), in.tokens(), out.data(), nativePanels);
        out.changed();
    }

    private void gemm(int r0, int r1, MemorySegment x, int tokens, MemorySegment y, boolean nativePanels) {
        GemmScratch scratch = GEMM_SCRATCH.get();
        float[] w = scratch.panel(ROW_BLOCK * panel);
        float[] acc = scratch.acc(tokens * ROW_BLOCK);
        long xRow = 4L * cols;
        long yRow = 4L * rows;
        for (int rb = r0; rb < r1; rb += ROW_BLOCK) {
            int nr = Math.min(ROW_BLOCK, r1 - rb);
            Arrays.fill(acc, 0, tokens * ROW_BLOCK, 0);
            for (int k0 = 0; k0 < cols; k0 += panel) {
                int kn = Math.min(panel, cols - k0);
                int done = 0;
                if (nativePanels && halfKind != 0 && NativeGemm.available()) {
                    // F16/BF16: the native code widens the 4-row groups' panel itself; only the rows left decode here
                    done = nr / 4 * 4;
                    NativeGemm.halves(data, type.rowBytes(cols), halfKind, rb, done, k0, x, 4L * k0, cols, tokens, kn, acc, ROW_BLOCK);
                    for (int i = done; i < nr; i++) {
                        kernel.decode(data, rb + i, k0, kn, w, i * panel);
                    }
                } else {
                    for (int i = 0; i < nr; i++) {
                        kernel.decode(data, rb + i, k0, kn, w, i * panel);
                    }
                    if (nativePanels && NativeGemm.available()) {
                        done = nr / 4 * 4;
                        NativeGemm.panel(w, panel, done, x, 4L * k0, cols, tokens, kn, acc, ROW_BLOCK);
                    }
                }
                for (int t0 = 0; t0 < tokens; t0 += TOKEN_TILE) {
                    int t1 = Math.min(tokens, t0 + TOKEN_TILE);
                    int i = done;
                    for (; i + 4 <= nr; i += 4) {
                        int t = t0;
                        for (; t + 2 <= t1; t += 2) {
                            Simd.dot4x2(w, i * panel, panel, x, t * xRow + 4L * k0, xRow, kn, acc, t * ROW_BLOCK + i, ROW_BLOCK);
                        }
                        for (; t < t1; t++) {
                            Simd.dot4(w, i * panel, panel, x, t * xRow + 4L * k0, kn, acc, t * ROW_BLOCK + i);
                        }
                    }
                    for (; i < nr; i++) {
                        for (int t = t0; t < t1; t++) {
                            acc[t * ROW_BLOCK + i] += Simd.dot(w, i * panel, x, t * xRow + 4L * k0, kn);
                        }
                    }
                }
            }
            for (int t = 0; t < tokens; t++) {
                MemorySegment.copy(acc, t * ROW_BLOCK, y, ValueLayout.JAVA_FLOAT_UNALIGNED, t * yRow + 4L * rb, nr);
            }
        }
    }

    /**
     * Each thread's panel and accumulator arrays, kept between calls: allocated per call (64 KiB for a 512-token
     * chunk, about 8 chunks a matmul) they made the young generation fill every few matmuls, and every collection
     * stops both threads of a prompt. Both arrays are written before they are read (the panel rows by the decoder,
     * the accumulators by the fill of each row block), so what a previous call left in them does not matter.
     */
    private static final ThreadLocal<GemmScratch> GEMM_SCRATCH = ThreadLocal.withInitial(GemmScratch::new);

    private static final class GemmScratch {
        private float[] panel = new float[0];
        private float[] acc = new float[0];

        float[] panel(int floats) {
            if (panel.length < floats) {
                panel = new float[floats];
            }
            return panel;
        }

        float[] acc(int floats) {
            if (acc.length < floats) {
                acc = new float[floats];
            }
            return acc;
        }
    }

    private static int roundUp(int v, int m) {
        return Math.ceilDiv(v, m) * m;
    }

    /**
     * The row ranges {@link Chunk} runs for {@code [0, rows)}, in order, as boundaries: chunk i is
     * {@code [b[i], b[i + 1])}. Every boundary but the last is a multiple of {@value #ROW_BLOCK}.
     */
    static int[] chunkBounds(int rows, int grain) {
        int[] b = new int[rows / Math.max(1, Math.min(grain, ROW_BLOCK)) + 2];
        int n = split(0, rows, grain, b, 1);
        return java.util.Arrays.copyOf(b, n);
    }

    /** Writes the upper bounds of [lo, hi)'s leaves from b[at]; returns the next free index. */
    private static int split(int lo, int hi, int grain, int[] b, int at) {
        if (hi - lo > grain) {
            int mid = lo + roundUp((hi - lo) / 2, ROW_BLOCK);
            if (mid < hi) {
                return split(mid, hi, grain, b, split(lo, mid, grain, b, at));
            }
        }
        b[at] = hi;
        return at + 1;
    }

    @FunctionalInterface
    private interface RowRange {
        void run(int r0, int r1);
    }

    /** Splits a row range in halves (at multiples of the row block) down to the grain, then runs it. */
    private static final class Chunk extends RecursiveAction {
        private final RowRange body;
        private final int lo;
        private final int hi;
        private final int grain;

        Chunk(RowRange body, int lo, int hi, int grain) {
            this.body = body;
            this.lo = lo;
            this.hi = hi;
            this.grain = grain;
        }

        @Override
        protected void compute() {
            if (hi - lo <= grain) {
                body.run(lo, hi);
                return;
            }
            int mid = lo + roundUp((hi - lo) / 2, ROW_BLOCK);
            if (mid >= hi) {
                body.run(lo, hi);
                return;
            }
            invokeAll(new Chunk(body, lo, mid, grain), new Chunk(body, mid, hi, grain));
        }
    }
}
