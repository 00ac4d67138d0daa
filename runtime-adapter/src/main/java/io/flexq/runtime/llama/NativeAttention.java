package io.flexq.runtime.llama;

import io.flexq.runtime.cpu.NativeLibrary;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_INT;

/**
 * {@code flexq_attention} of {@code src/main/c/attention.c} (AVX-512F, head sizes a multiple of 16): the same
 * scores and weighted sum as {@link Attention}'s Java loop, with a vectorized exponential in the softmax. The
 * downcall is critical with heap access: q, the caches and the output are heap arrays passed without copies.
 */
final class NativeAttention {

    private static final NativeAttention INSTANCE = load();

    private final MethodHandle attend;
    private final String why;

    private NativeAttention(MethodHandle attend, String why) {
        this.attend = attend;
        this.why = why;
    }

    /** The process's instance (the library is loaded once). */
    static NativeAttention get() {
        return INSTANCE;
    }

    private static NativeAttention load() {
        NativeLibrary lib = NativeLibrary.open("libflexq_runtime", NativeAttention.class);
        if (lib.lookup().isEmpty()) {
            return new NativeAttention(null, lib.why());
        }
        try {
            Linker linker = Linker.nativeLinker();
            MethodHandle level = linker.downcallHandle(lib.lookup().get().findOrThrow("flexq_rt_level"), FunctionDescriptor.of(JAVA_INT));
            if ((int) level.invokeExact() < 2) {
                return new NativeAttention(null, "the native attention needs AVX-512F");
            }
            MethodHandle h = linker.downcallHandle(lib.lookup().get().findOrThrow("flexq_attention"),
                    FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT, ADDRESS, ADDRESS, ADDRESS, JAVA_INT, JAVA_INT,
                            JAVA_INT, JAVA_FLOAT, JAVA_INT, JAVA_INT),
                    Linker.Option.critical(true));
            return new NativeAttention(h, "native AVX-512F");
        } catch (Throwable e) {
            return new NativeAttention(null, "native attention unavailable: " + e);
        }
    }

    /** True when {@link #attend} runs for head size {@code hs}. */
    boolean runs(int hs) {
        return attend != null && hs % 16 == 0 && hs > 0;
    }

    String why() {
        return why;
    }

    /** Tasks (token t, head h) = t * heads + h in [from, to); arrays as {@link Attention#attend}. */
    void attend(LlamaConfig c, float[] q, int n, int pos, float[] keys, float[] values, float[] out, float scale, int from, int to) {
        int hs = c.headSize();
        // the C side trusts its arguments: check what it reads and writes
        if ((long) n * c.qDim() > q.length || (long) n * c.qDim() > out.length
                || (long) (pos + n) * c.kvDim() > keys.length || (long) (pos + n) * c.kvDim() > values.length
                || from < 0 || to > n * c.heads() || from > to) {
            throw new IllegalArgumentException("native attention: " + n + " tokens at " + pos + ", tasks [" + from + ", "
                    + to + ") do not fit the arrays");
        }
        int rc;
        try {
            rc = (int) attend.invokeExact(MemorySegment.ofArray(q), n, pos, MemorySegment.ofArray(keys), MemorySegment.ofArray(values),
                    MemorySegment.ofArray(out), c.heads(), c.kvHeads(), hs, scale, from, to);
        } catch (Throwable e) {
            throw new IllegalStateException("native attention failed", e);
        }
        if (rc != 0) {
            throw new IllegalStateException("native attention returned " + rc);
        }
    }
}
