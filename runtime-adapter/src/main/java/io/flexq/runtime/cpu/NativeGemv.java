package io.flexq.runtime.cpu;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.util.Optional;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * The native one-token matmuls of {@code src/main/c/gemv.c} (F16, BF16, Q8_0, Q4_0, Q6_K; AVX-512), bit-identical to
 * {@link F16Kernel}, {@link BF16Kernel}, {@link Q8_0Kernel}, {@link Q4_0Kernel} and {@link Q6_KKernel} when those run on
 * 16 float lanes, so they are used only then. The downcall is critical: weights are the mapped file, activations and
 * outputs native or heap segments. Why native for BF16, Q4_0 and Q6_K too: their Vector API
 * loops reached 0.11-0.24 (Q4_0, Q6_K) and 0.34-0.55 (BF16) of the read bandwidth in decode, the native ones 1.3-2.7x
 * more, and 27M-model decode rose 1.8x (Q4_0) and 2.3x (Q6_K) (bench/results/cpu-vs-llamacpp.md, 2026-12-06 22:50 UTC).
 * Since 2026-12-07 one-token Q4_0 and Q6_K steps run with 8-bit activations ({@link Int8Gemv}) where the CPU has AVX-512
 * VNNI; these fp32 loops run them with {@code -Dflexq.cpu.q8Decode=f32} or {@code -Dflexq.cpu.q8Prefill=f32}.
 */
final class NativeGemv {

    private static final NativeGemv INSTANCE = load();
    /** The two handles as constants for the JIT (see NativeLlamaCpu.Hot): callers pass one, the call uses the constant. */
    private record Hot(MethodHandle f16, MethodHandle q8, MethodHandle bf16, MethodHandle q4, MethodHandle q6k) {
    }
    private static final Hot HOT = INSTANCE.handles;

    private final Hot handles;

    private NativeGemv(Hot handles) {
        this.handles = handles;
    }

    private static NativeGemv none() {
        return new NativeGemv(new Hot(null, null, null, null, null));
    }

    /** The handle for {@code kernel}'s type, when the native loop reproduces it exactly here. */
    static Optional<MethodHandle> forKernel(RowKernel kernel) {
        if (Simd.L != 16) {
            return Optional.empty(); // another lane count sums in another order
        }
        return Optional.ofNullable(switch (kernel) {
            case F16Kernel k -> HOT.f16();
            case Q8_0Kernel k -> HOT.q8();
            case BF16Kernel k -> HOT.bf16();
            case Q4_0Kernel k -> HOT.q4();
            case Q6_KKernel k -> HOT.q6k();
            default -> null;
        });
    }

    private static NativeGemv load() {
        NativeLibrary lib = NativeLibrary.open("libflexq_runtime", NativeGemv.class);
        if (lib.lookup().isEmpty()) {
            return none();
        }
        try {
            Linker linker = Linker.nativeLinker();
            MethodHandle level = linker.downcallHandle(lib.lookup().get().findOrThrow("flexq_rt_level"), FunctionDescriptor.of(JAVA_INT));
            if ((int) level.invokeExact() < 2) {
                return none();
            }
            FunctionDescriptor fd = FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG, JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS, ADDRESS);
            java.util.function.Function<String, MethodHandle> h = name ->
                    linker.downcallHandle(lib.lookup().get().findOrThrow(name), fd, Linker.Option.critical(true));
            return new NativeGemv(new Hot(h.apply("flexq_gemv_f16"), h.apply("flexq_gemv_q8_0"), h.apply("flexq_gemv_bf16"),
                    h.apply("flexq_gemv_q4_0"), h.apply("flexq_gemv_q6_k")));
        } catch (Throwable e) {
            return none();
        }
    }

    /**
     * {@code y[r] = dot(row r of w, x)} for r in [r0, r1): w rows of rowBytes from offset 0, x cols floats, y floats
     * indexed by row. The caller has checked the shapes (CpuMatrix); the extents are checked again here.
     */
    static void gemv(MethodHandle h, MemorySegment w, long rowBytes, int cols, int r0, int r1, MemorySegment x, MemorySegment y) {
        if (r1 > 0 && (w.byteSize() < r1 * rowBytes || x.byteSize() < 4L * cols || y.byteSize() < 4L * r1)) {
            throw new IllegalArgumentException("native gemv: rows [" + r0 + ", " + r1 + ") x " + cols + " do not fit");
        }
        int rc;
        try {
            if (h == HOT.q8()) {
                rc = (int) HOT.q8().invokeExact(w, rowBytes, cols, r0, r1, x, y);
            } else if (h == HOT.f16()) {
                rc = (int) HOT.f16().invokeExact(w, rowBytes, cols, r0, r1, x, y);
            } else if (h == HOT.q4()) {
                rc = (int) HOT.q4().invokeExact(w, rowBytes, cols, r0, r1, x, y);
            } else if (h == HOT.q6k()) {
                rc = (int) HOT.q6k().invokeExact(w, rowBytes, cols, r0, r1, x, y);
            } else if (h == HOT.bf16()) {
                rc = (int) HOT.bf16().invokeExact(w, rowBytes, cols, r0, r1, x, y);
            } else {
                rc = (int) h.invokeExact(w, rowBytes, cols, r0, r1, x, y);
            }
        } catch (Throwable e) {
            throw new IllegalStateException("native gemv failed", e);
        }
        if (rc != 0) {
            throw new IllegalStateException("native gemv returned " + rc);
        }
    }
}
