package io.flexq.runtime.cpu;

import io.flexq.runtime.spi.ActivationBatch;
import io.flexq.runtime.spi.TensorType;
import io.flexq.runtime.tensor.Q4_0Type;
import io.flexq.runtime.tensor.Q6_KType;
import io.flexq.runtime.tensor.Q8_0Type;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * Prompts of Q8_0, Q4_0 and Q6_K weights with 8-bit activations ({@code src/main/c/gemm_q8.c}, AVX-512 VNNI), as llama.cpp
 * multiplies them (Q4_0 and Q6_K rows are repacked into the same int8 tiles; Q6_K's two 16-blocks of a 32-block are
 * summed apart and scaled by their int8 scales in int32): each token's activations are quantized in 32-blocks once per batch ({@link Codes}, a derived form
 * shared by the matrices that read the batch), then integer dot products are scaled per block. This is not
 * bit-identical to the fp32 kernels: a row differs from the fp32 product by the activation rounding (at most
 * d_x / 2 per element), bounded against float64 in NativeQ8GemmTest. Used for batches of at least
 * {@link #MIN_TOKENS} tokens; one-token Q4_0 and Q6_K steps use the same codes ({@link Int8Gemv}), other one-token steps
 * keep the fp32 kernels. {@code -Dflexq.cpu.q8Prefill=f32} keeps prompts on the fp32 GEMM (and, by default, those
 * one-token steps on the fp32 kernels). Q4_0 since 2026-12-06: its fp32 prompts ran at 0.55x llama.cpp's (two threads,
 * bench/results/cpu-vs-llamacpp.md); Q6_K since 2026-12-07, so that its prompts and its one-token steps share numerics.
 */
final class NativeQ8 {

    /** System property: {@code int8} (default where the CPU has AVX-512 VNNI) or {@code f32}. */
    static final String PROPERTY = "flexq.cpu.q8Prefill";
    /** Smaller batches (a few sequences decoded together) keep the fp32 kernels of a decode step. */
    static final int MIN_TOKENS = 4;

    /** Activation codes (q + 128, tokens x cols bytes) and block scales (tokens x cols / 32) of one batch. */
    record Codes(byte[] codes, float[] scales, int tokens, int cols) {
    }

    private record Key() {
    }

    private static final Key KEY = new Key();

    private record Handles(MethodHandle quantize, MethodHandle gemm, MethodHandle gemmQ4, MethodHandle gemmQ6K) {
    }

    private static final Handles HANDLES = load();

    private NativeQ8() {
    }

    private static final boolean PROMPTS = "int8".equalsIgnoreCase(System.getProperty(PROPERTY, "int8"));

    /** Whether prompts run here with 8-bit activations: the native kernels load and the property allows. */
    static boolean available() {
        return PROMPTS && HANDLES != null;
    }

    /**
     * The runtime library's symbols where its int8 kernels can run ({@code flexq_q8_level() >= 1}: AVX-512 VNNI), else
     * null (no library, or a CPU without those instructions).
     */
    static java.lang.foreign.SymbolLookup int8Symbols(Class<?> caller) {
        NativeLibrary lib = NativeLibrary.open("libflexq_runtime", caller);
        if (lib.lookup().isEmpty()) {
            return null;
        }
        try {
            var find = lib.lookup().get();
            MethodHandle level = Linker.nativeLinker().downcallHandle(find.findOrThrow("flexq_q8_level"), FunctionDescriptor.of(JAVA_INT));
            return (int) level.invokeExact() < 1 ? null : find;
        } catch (Throwable e) {
            return null;
        }
    }

    private static Handles load() {
        var find = int8Symbols(NativeQ8.class);
        if (find == null) {
            return null;
        }
        try {
            Linker linker = Linker.nativeLinker();
            FunctionDescriptor gemm = FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG, JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS, ADDRESS,
                    JAVA_INT, ADDRESS, JAVA_LONG);
            return new Handles(
                    linker.downcallHandle(find.findOrThrow("flexq_q8_quantize"),
                            FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT, ADDRESS, ADDRESS), Linker.Option.critical(true)),
                    linker.downcallHandle(find.findOrThrow("flexq_gemm_q8_0"), gemm, Linker.Option.critical(true)),
                    linker.downcallHandle(find.findOrThrow("flexq_gemm_q4_0"), gemm, Linker.Option.critical(true)),
                    linker.downcallHandle(find.findOrThrow("flexq_gemm_q6_k"), gemm, Linker.Option.critical(true)));
        } catch (Throwable e) {
            return null;
        }
    }

    /**
     * The batch's codes, computed once per contents (cols a multiple of 32, as every Q8_0 row), on {@code team} in
     * token ranges when given (each token is quantized alone, so the split changes no bits).
     */
    static Codes codes(ActivationBatch in, SpinTeam team) {
        return in.derived(KEY, b -> quantize(b, team));
    }

    /** A prompt at least this long is quantized in token ranges on the team (a 512 x 512 batch: about 0.3 ms alone). */
    static final int PARALLEL_TOKENS = 16;

    private static Codes quantize(ActivationBatch b, SpinTeam team) {
        int tokens = b.tokens(), cols = b.dim();
        // the arrays of this batch's previous codes when they fit (its contents changed, so those are dropped)
        Codes old = b.spare(KEY) instanceof Codes prev && prev.tokens() == tokens && prev.cols() == cols ? prev : null;
        byte[] codes = old != null ? old.codes() : new byte[Math.multiplyExact(tokens, cols)];
        float[] scales = old != null ? old.scales() : new float[tokens * (cols / 32)];
        long bytes = 4L * codes.length;
        // the batch itself where every thread may read it (a shared arena); else a heap copy made on this thread
        MemorySegment x = b.data().isAccessibleBy(PROBE) ? b.data().asSlice(0, bytes)
                : MemorySegment.ofArray(new float[codes.length]).copyFrom(b.data().asSlice(0, bytes));
        MemorySegment c = MemorySegment.ofArray(codes), s = MemorySegment.ofArray(scales);
        int blocks = cols / 32;
        int chunks = team == null || team.threads() < 2 || tokens < PARALLEL_TOKENS ? 1 : Math.min(tokens, 4 * team.threads());
        java.util.function.IntConsumer range = i -> {
            int t0 = (int) ((long) tokens * i / chunks), t1 = (int) ((long) tokens * (i + 1) / chunks);
            quantize(x.asSlice(4L * t0 * cols), t1 - t0, cols, c.asSlice((long) t0 * cols), s.asSlice(4L * t0 * blocks));
        };
        if (chunks == 1) {
            range.accept(0);
        } else {
            team.run(chunks, range);
        }
        Codes made = new Codes(codes, scales, tokens, cols);
        b.keepSpare(KEY, made);
        return made;
    }

    private static void quantize(MemorySegment x, int tokens, int cols, MemorySegment codes, MemorySegment scales) {
        if (HANDLES == null) {
            quantizeJava(x, tokens, cols, codes, scales);
            return;
        }
        int rc;
        try {
            rc = (int) HANDLES.quantize().invokeExact(x, tokens, cols, codes, scales);
        } catch (Throwable e) {
            throw new IllegalStateException("native q8 quantize failed", e);
        }
        if (rc != 0) {
            throw new IllegalStateException("native q8 quantize returned " + rc + " for " + tokens + " x " + cols);
        }
    }

    /**
     * flexq_q8_quantize's rule in Java, the same bits (Int8GemvTest), for {@link Int8Gemv}'s loops where the native
     * library is absent: d = amax / 127, q = round-half-even(x * (1 / d)) clamped to +-127, stored q + 128; a block
     * of amax 0 gives d 0, one with a NaN or infinity d NaN, both with codes 128.
     */
    static void quantizeJava(MemorySegment x, int tokens, int cols, MemorySegment codes, MemorySegment scales) {
        if (cols % 32 != 0) {
            throw new IllegalArgumentException("q8 quantize: " + cols + " columns is not a multiple of 32");
        }
        for (long t = 0; t < tokens; t++) {
            for (int j = 0; j < cols / 32; j++) {
                long at = t * cols + 32L * j;
                float amax = 0;
                boolean nan = false;
                for (int i = 0; i < 32; i++) {
                    float v = x.getAtIndex(ValueLayout.JAVA_FLOAT_UNALIGNED, at + i);
                    nan |= Float.isNaN(v);
                    amax = Math.max(amax, Math.abs(v));
                }
                long sAt = t * (cols / 32) + j;
                if (nan || !(amax <= Float.MAX_VALUE) || amax == 0f) {
                    codes.asSlice(at, 32).fill((byte) 128);
                    scales.setAtIndex(ValueLayout.JAVA_FLOAT_UNALIGNED, sAt, amax == 0f && !nan ? 0f : Float.NaN);
                    continue;
                }
                float d = amax / 127f;
                float id = 1f / d;
                for (int i = 0; i < 32; i++) {
                    float v = x.getAtIndex(ValueLayout.JAVA_FLOAT_UNALIGNED, at + i) * id;
                    int q = (int) Math.max(-127, Math.min(127, Math.rint(v)));
                    codes.set(ValueLayout.JAVA_BYTE, at + i, (byte) (q + 128));
                }
                scales.setAtIndex(ValueLayout.JAVA_FLOAT_UNALIGNED, sAt, d);
            }
        }
    }

    /** A thread that never runs: a segment it may access is not confined to any thread. */
    private static final Thread PROBE = Thread.ofVirtual().unstarted(() -> { });

    /** {@code y[t * yStride + r]} for rows [r0, r1) of the Q8_0, Q4_0 or Q6_K rows in w and every token of a. */
    static void gemm(TensorType type, MemorySegment w, long rowBytes, int cols, int r0, int r1, Codes a, MemorySegment y, long yStride) {
        if (r1 > r0 && (w.byteSize() < r1 * rowBytes || a.cols() != cols
                || y.byteSize() < 4L * ((a.tokens() - 1) * yStride + r1))) {
            throw new IllegalArgumentException("native q8 gemm: rows [" + r0 + ", " + r1 + ") x " + cols + " do not fit");
        }
        if (r1 <= r0) {
            return;
        }
        int rc;
        try {
            MethodHandle h = switch (type) {
                case Q4_0Type t -> HANDLES.gemmQ4();
                case Q6_KType t -> HANDLES.gemmQ6K();
                case Q8_0Type t -> HANDLES.gemm();
                default -> throw new IllegalArgumentException("native q8 gemm: no kernel for " + type.name());
            };
            rc = (int) h.invokeExact(w, rowBytes, cols, r0, r1, MemorySegment.ofArray(a.codes()),
                    MemorySegment.ofArray(a.scales()), a.tokens(), y, yStride);
        } catch (Throwable e) {
            throw new IllegalStateException("native q8 gemm failed", e);
        }
        if (rc != 0) {
            throw new IllegalStateException("native q8 gemm returned " + rc);
        }
    }
}
