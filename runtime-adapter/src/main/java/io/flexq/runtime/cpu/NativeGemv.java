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
 * The native one-token matmuls of {@code src/main/c/gemv.c} (F16, Q8_0; AVX-512), bit-identical to
 * {@link F16Kernel} and {@link Q8_0Kernel} when those run on 16 float lanes, so they are used only then. The
 * downcall is critical: weights are the mapped file, activations and outputs native or heap segments.
 */
final class NativeGemv {

    private static final NativeGemv INSTANCE = load();
    /** The two handles as constants for the JIT (see NativeLlamaCpu.Hot): callers pass one, the call uses the constant. */
    private record Hot(MethodHandle f16, MethodHandle q8) {
    }
    private static final Hot HOT = new Hot(INSTANCE.f16, INSTANCE.q8);

    private final MethodHandle f16;
    private final MethodHandle q8;

    private NativeGemv(MethodHandle f16, MethodHandle q8) {
        this.f16 = f16;
        this.q8 = q8;
    }

    /** The handle for {@code kernel}'s type, when the native loop reproduces it exactly here. */
    static Optional<MethodHandle> forKernel(RowKernel kernel) {
        if (Simd.L != 16) {
            return Optional.empty(); // another lane count sums in another order
        }
        return Optional.ofNullable(switch (kernel) {
            case F16Kernel k -> INSTANCE.f16;
            case Q8_0Kernel k -> INSTANCE.q8;
            default -> null;
        });
    }

    private static NativeGemv load() {
        NativeLibrary lib = NativeLibrary.open("libflexq_runtime", NativeGemv.class);
        if (lib.lookup().isEmpty()) {
            return new NativeGemv(null, null);
        }
        try {
            Linker linker = Linker.nativeLinker();
            MethodHandle level = linker.downcallHandle(lib.lookup().get().findOrThrow("flexq_rt_level"), FunctionDescriptor.of(JAVA_INT));
            if ((int) level.invokeExact() < 2) {
                return new NativeGemv(null, null);
            }
            FunctionDescriptor fd = FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG, JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS, ADDRESS);
            return new NativeGemv(
                    linker.downcallHandle(lib.lookup().get().findOrThrow("flexq_gemv_f16"), fd, Linker.Option.critical(true)),
                    linker.downcallHandle(lib.lookup().get().findOrThrow("flexq_gemv_q8_0"), fd, Linker.Option.critical(true)));
        } catch (Throwable e) {
            return new NativeGemv(null, null);
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
