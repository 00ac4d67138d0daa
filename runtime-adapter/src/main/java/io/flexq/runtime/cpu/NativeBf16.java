package io.flexq.runtime.cpu;

import io.flexq.runtime.spi.ActivationBatch;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * Prompts of BF16 weights with bf16 activations ({@code src/main/c/gemm_bf16.c}, AVX-512 BF16 {@code vdpbf16ps}), as
 * llama.cpp multiplies BF16: each token's activations are rounded to bf16 once per batch ({@link #activations}, a
 * derived form shared by the matrices that read the batch), then pairs of bf16 products are summed in fp32 lanes.
 * Not bit-identical to the fp32 kernels, and not reproduced in Java (the instruction's rounding inside a pair is the
 * CPU's): native only. Where AVX-512 BF16 or the library is missing, or with {@code -Dflexq.cpu.bf16Prefill=f32},
 * BF16 prompts run the fp32 GEMM over decoded panels (bit-identical to the Vector API loops). A row differs from the
 * fp32 product by the activation rounding (at most 2^-8 of |x| per element) and its fp32 sums, bounded against float64
 * in NativeBf16GemmTest. Batches of at least {@link #MIN_TOKENS} tokens; one-token decode steps keep the fp32 kernels.
 * Since 2026-12-07: the fp32 BF16 prompt ran at 0.53x llama.cpp's (27M model, two threads, bench/results/cpu-vs-llamacpp.md).
 */
final class NativeBf16 {

    /** System property: {@code bf16} (default where the CPU has AVX-512 BF16) or {@code f32}. */
    static final String PROPERTY = "flexq.cpu.bf16Prefill";
    /** Smaller batches (a few sequences decoded together) keep the fp32 kernels of a decode step. */
    static final int MIN_TOKENS = 4;
    /** A prompt at least this long is rounded in token ranges on the team. */
    static final int PARALLEL_TOKENS = 16;

    /** The batch's activations rounded to bf16, tokens x cols. */
    record Activations(short[] values, int tokens, int cols) {
    }

    private record Key() {
    }

    private static final Key KEY = new Key();

    private record Handles(MethodHandle round, MethodHandle gemm) {
    }

    private static final Handles HANDLES = load();

    private NativeBf16() {
    }

    static boolean available() {
        return HANDLES != null;
    }

    private static Handles load() {
        if (!"bf16".equalsIgnoreCase(System.getProperty(PROPERTY, "bf16"))) {
            return null;
        }
        NativeLibrary lib = NativeLibrary.open("libflexq_runtime", NativeBf16.class);
        if (lib.lookup().isEmpty()) {
            return null;
        }
        try {
            Linker linker = Linker.nativeLinker();
            var find = lib.lookup().get();
            MethodHandle level = linker.downcallHandle(find.findOrThrow("flexq_bf16_level"), FunctionDescriptor.of(JAVA_INT));
            if ((int) level.invokeExact() < 1) {
                return null;
            }
            return new Handles(
                    linker.downcallHandle(find.findOrThrow("flexq_bf16_round"),
                            FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG, ADDRESS), Linker.Option.critical(true)),
                    linker.downcallHandle(find.findOrThrow("flexq_gemm_bf16"),
                            FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG, JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT,
                                    ADDRESS, JAVA_LONG), Linker.Option.critical(true)));
        } catch (Throwable e) {
            return null;
        }
    }

    /**
     * The batch's bf16 activations, computed once per contents, on {@code team} in token ranges when given (each value
     * is rounded alone, so the split changes no bits).
     */
    static Activations activations(ActivationBatch in, SpinTeam team) {
        return in.derived(KEY, b -> round(b, team));
    }

    private static Activations round(ActivationBatch b, SpinTeam team) {
        int tokens = b.tokens(), cols = b.dim();
        // the array of this batch's previous form when it fits (its contents changed, so that form is dropped)
        Activations old = b.spare(KEY) instanceof Activations prev && prev.tokens() == tokens && prev.cols() == cols ? prev : null;
        short[] values = old != null ? old.values() : new short[Math.multiplyExact(tokens, cols)];
        long bytes = 4L * values.length;
        // the batch itself where every thread may read it (a shared arena); else a heap copy made on this thread
        MemorySegment x = b.data().isAccessibleBy(PROBE) ? b.data().asSlice(0, bytes)
                : MemorySegment.ofArray(new float[values.length]).copyFrom(b.data().asSlice(0, bytes));
        MemorySegment v = MemorySegment.ofArray(values);
        int chunks = team == null || team.threads() < 2 || tokens < PARALLEL_TOKENS ? 1 : Math.min(tokens, 4 * team.threads());
        java.util.function.IntConsumer range = i -> {
            long t0 = (long) tokens * i / chunks, t1 = (long) tokens * (i + 1) / chunks;
            round(x.asSlice(4L * t0 * cols), (t1 - t0) * cols, v.asSlice(2L * t0 * cols));
        };
        if (chunks == 1) {
            range.accept(0);
        } else {
            team.run(chunks, range);
        }
        Activations made = new Activations(values, tokens, cols);
        b.keepSpare(KEY, made);
        return made;
    }

    private static void round(MemorySegment x, long n, MemorySegment out) {
        int rc;
        try {
            rc = (int) HANDLES.round().invokeExact(x, n, out);
        } catch (Throwable e) {
            throw new IllegalStateException("native bf16 rounding failed", e);
        }
        if (rc != 0) {
            throw new IllegalStateException("native bf16 rounding returned " + rc + " for " + n + " values");
        }
    }

    /** A thread that never runs: a segment it may access is not confined to any thread. */
    private static final Thread PROBE = Thread.ofVirtual().unstarted(() -> { });

    /** {@code y[t * yStride + r]} for rows [r0, r1) of the BF16 rows in w and every token of a. */
    static void gemm(MemorySegment w, long rowBytes, int cols, int r0, int r1, Activations a, MemorySegment y, long yStride) {
        if (r1 > r0 && (w.byteSize() < r1 * rowBytes || rowBytes < 2L * cols || a.cols() != cols
                || y.byteSize() < 4L * ((a.tokens() - 1) * yStride + r1))) {
            throw new IllegalArgumentException("native bf16 gemm: rows [" + r0 + ", " + r1 + ") x " + cols + " do not fit");
        }
        if (r1 <= r0) {
            return;
        }
        int rc;
        try {
            rc = (int) HANDLES.gemm().invokeExact(w, rowBytes, cols, r0, r1, MemorySegment.ofArray(a.values()), a.tokens(), y, yStride);
        } catch (Throwable e) {
            throw new IllegalStateException("native bf16 gemm failed", e);
        }
        if (rc != 0) {
            throw new IllegalStateException("native bf16 gemm returned " + rc);
        }
    }
}
