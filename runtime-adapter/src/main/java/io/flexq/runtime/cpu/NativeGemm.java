package io.flexq.runtime.cpu;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * The native prompt GEMM over one decoded fp32 panel ({@code src/main/c/gemm.c}, AVX-512), bit-identical to
 * {@link Simd#dot4x2} / {@link Simd#dot4} when those run on 16 float lanes, so it is used only then. It covers the
 * row groups of four; a block's remaining rows (rows not a multiple of 4) stay on {@link Simd#dot}, as before.
 * The downcall is critical: the panel and the accumulators are heap arrays, the activations native or heap.
 */
final class NativeGemm {

    /** System property that keeps prompts on the Vector API loop ({@code false}), for A/B runs. */
    static final String PROPERTY = "flexq.cpu.nativeGemm";

    /** The handles, or null where the library, AVX-512F or 16-lane vectors are missing, or it is turned off. */
    private record Handles(MethodHandle panel, MethodHandle halves) {
    }

    private static final Handles HANDLES = load();

    private NativeGemm() {
    }

    static boolean available() {
        return HANDLES != null;
    }

    private static Handles load() {
        if (Simd.L != 16 || "false".equalsIgnoreCase(System.getProperty(PROPERTY, "true"))) {
            return null; // another lane count sums in another order
        }
        NativeLibrary lib = NativeLibrary.open("libflexq_runtime", NativeGemm.class);
        if (lib.lookup().isEmpty()) {
            return null;
        }
        try {
            Linker linker = Linker.nativeLinker();
            MethodHandle level = linker.downcallHandle(lib.lookup().get().findOrThrow("flexq_rt_level"), FunctionDescriptor.of(JAVA_INT));
            if ((int) level.invokeExact() < 2) {
                return null;
            }
            FunctionDescriptor fd = FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT, ADDRESS, JAVA_LONG, JAVA_INT, JAVA_INT,
                    ADDRESS, JAVA_INT);
            FunctionDescriptor halves = FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG, JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS,
                    JAVA_LONG, JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT);
            return new Handles(linker.downcallHandle(lib.lookup().get().findOrThrow("flexq_gemm_panel"), fd, Linker.Option.critical(true)),
                    linker.downcallHandle(lib.lookup().get().findOrThrow("flexq_gemm_panel_halves"), halves, Linker.Option.critical(true)));
        } catch (Throwable e) {
            return null;
        }
    }

    /**
     * {@code acc[t * accStride + i] += dot(w[i * wStride ..], x[xOff + 4 t xRowFloats ..])} over kn columns, for rows
     * i in [0, rows4) (a multiple of 4) and tokens [0, tokens); x is read from byte xOff (a panel's first column).
     */
    static void panel(float[] w, int wStride, int rows4, MemorySegment x, long xOff, long xRowFloats, int tokens, int kn,
                      float[] acc, int accStride) {
        if (rows4 % 4 != 0 || (rows4 > 0 && (long) (rows4 - 1) * wStride + kn > w.length)
                || xOff + 4L * ((tokens - 1) * xRowFloats + kn) > x.byteSize()
                || (long) (tokens - 1) * accStride + rows4 > acc.length) {
            throw new IllegalArgumentException("native gemm: " + rows4 + " rows x " + tokens + " tokens x " + kn + " columns do not fit");
        }
        int rc;
        try {
            rc = (int) HANDLES.panel().invokeExact(MemorySegment.ofArray(w), wStride, rows4, x.asSlice(xOff), xRowFloats, tokens, kn,
                    MemorySegment.ofArray(acc), accStride);
        } catch (Throwable e) {
            throw new IllegalStateException("native gemm failed", e);
        }
        if (rc != 0) {
            throw new IllegalStateException("native gemm returned " + rc);
        }
    }

    /** GGUF type ids of the half-precision weights {@link #halves} widens itself. */
    static final int F16 = 1;
    static final int BF16 = 30;
    /** The widest panel {@link #halves} takes (its aligned buffer holds 4 rows of it). */
    static final int HALVES_MAX_COLS = 2048;

    /**
     * {@link #panel} for F16 or BF16 ({@code kind}) rows read in place: rows [row0, row0 + rows4) of {@code w}
     * ({@code rowBytes} apart), columns [k0, k0 + kn), widened to fp32 by the native code (exactly, as the Java decoders
     * do) instead of into a Java array, then the same tiles: the same bits as decoding and calling {@link #panel}.
     */
    static void halves(MemorySegment w, long rowBytes, int kind, int row0, int rows4, int k0, MemorySegment x, long xOff,
                       long xRowFloats, int tokens, int kn, float[] acc, int accStride) {
        if (rows4 % 4 != 0 || kn > HALVES_MAX_COLS || (rows4 > 0 && (row0 + rows4 - 1) * rowBytes + 2L * (k0 + kn) > w.byteSize())
                || xOff + 4L * ((tokens - 1) * xRowFloats + kn) > x.byteSize()
                || (long) (tokens - 1) * accStride + rows4 > acc.length) {
            throw new IllegalArgumentException("native gemm: " + rows4 + " half rows x " + tokens + " tokens x " + kn + " columns do not fit");
        }
        int rc;
        try {
            rc = (int) HANDLES.halves().invokeExact(w.asSlice(row0 * rowBytes), rowBytes, kind, rows4, k0, x.asSlice(xOff), xRowFloats,
                    tokens, kn, MemorySegment.ofArray(acc), accStride);
        } catch (Throwable e) {
            throw new IllegalStateException("native gemm failed", e);
        }
        if (rc != 0) {
            throw new IllegalStateException("native gemm (halves) returned " + rc);
        }
    }
}
