package io.flexq.runtime.cpu;

import io.flexq.runtime.spi.ActivationBatch;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * Prompts of Q8_0 weights with 8-bit activations ({@code src/main/c/gemm_q8.c}, AVX-512 VNNI), as llama.cpp
 * multiplies Q8_0: each token's activations are quantized in 32-blocks once per batch ({@link Codes}, a derived form
 * shared by the matrices that read the batch), then integer dot products are scaled per block. This is not
 * bit-identical to the fp32 kernels: a row differs from the fp32 product by the activation rounding (at most
 * d_x / 2 per element), bounded against float64 in NativeQ8GemmTest. Used for batches of at least
 * {@link #MIN_TOKENS} tokens; one-token decode steps keep the fp32 kernels. {@code -Dflexq.cpu.q8Prefill=f32}
 * keeps prompts on the fp32 GEMM.
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

    private record Handles(MethodHandle quantize, MethodHandle gemm) {
    }

    private static final Handles HANDLES = load();

    private NativeQ8() {
    }

    static boolean available() {
        return HANDLES != null;
    }

    private static Handles load() {
        if (!"int8".equalsIgnoreCase(System.getProperty(PROPERTY, "int8"))) {
            return null;
        }
        NativeLibrary lib = NativeLibrary.open("libflexq_runtime", NativeQ8.class);
        if (lib.lookup().isEmpty()) {
            return null;
        }
        try {
            Linker linker = Linker.nativeLinker();
            var find = lib.lookup().get();
            MethodHandle level = linker.downcallHandle(find.findOrThrow("flexq_q8_level"), FunctionDescriptor.of(JAVA_INT));
            if ((int) level.invokeExact() < 1) {
                return null;
            }
            return new Handles(
                    linker.downcallHandle(find.findOrThrow("flexq_q8_quantize"),
                            FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT, ADDRESS, ADDRESS), Linker.Option.critical(true)),
                    linker.downcallHandle(find.findOrThrow("flexq_gemm_q8_0"),
                            FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG, JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS, ADDRESS, JAVA_INT,
                                    ADDRESS, JAVA_LONG), Linker.Option.critical(true)));
        } catch (Throwable e) {
            return null;
        }
    }

    /** The batch's codes, computed once per contents (cols a multiple of 32, as every Q8_0 row). */
    static Codes codes(ActivationBatch in) {
        return in.derived(KEY, NativeQ8::quantize);
    }

    private static Codes quantize(ActivationBatch b) {
        int tokens = b.tokens(), cols = b.dim();
        byte[] codes = new byte[Math.multiplyExact(tokens, cols)];
        float[] scales = new float[tokens * (cols / 32)];
        int rc;
        try {
            // a heap copy: the batch may be confined to another thread's arena, and the call is short
            float[] x = new float[codes.length];
            MemorySegment.copy(b.data(), ValueLayout.JAVA_FLOAT, 0, x, 0, x.length);
            rc = (int) HANDLES.quantize().invokeExact(MemorySegment.ofArray(x), tokens, cols, MemorySegment.ofArray(codes),
                    MemorySegment.ofArray(scales));
        } catch (Throwable e) {
            throw new IllegalStateException("native q8 quantize failed", e);
        }
        if (rc != 0) {
            throw new IllegalStateException("native q8 quantize returned " + rc + " for " + tokens + " x " + cols);
        }
        return new Codes(codes, scales, tokens, cols);
    }

    /** {@code y[t * yStride + r]} for rows [r0, r1) of the Q8_0 rows in w and every token of a. */
    static void gemm(MemorySegment w, long rowBytes, int cols, int r0, int r1, Codes a, MemorySegment y, long yStride) {
        if (r1 > r0 && (w.byteSize() < r1 * rowBytes || a.cols() != cols
                || y.byteSize() < 4L * ((a.tokens() - 1) * yStride + r1))) {
            throw new IllegalArgumentException("native q8 gemm: rows [" + r0 + ", " + r1 + ") x " + cols + " do not fit");
        }
        if (r1 <= r0) {
            return;
        }
        int rc;
        try {
            rc = (int) HANDLES.gemm().invokeExact(w, rowBytes, cols, r0, r1, MemorySegment.ofArray(a.codes()),
                    MemorySegment.ofArray(a.scales()), a.tokens(), y, yStride);
        } catch (Throwable e) {
            throw new IllegalStateException("native q8 gemm failed", e);
        }
        if (rc != 0) {
            throw new IllegalStateException("native q8 gemm returned " + rc);
        }
    }
}
