package io.flexq.runtime.llama;

import io.flexq.runtime.cpu.NativeLibrary;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * {@code flexq_attention} and {@code flexq_swiglu} of {@code src/main/c/llama_cpu.c} (AVX-512F; attention for head
 * sizes a multiple of 16): the same scores and weighted sum as {@link Attention}'s Java loop, with a vectorized
 * exponential in the softmax, and the SwiGLU of {@link VectorMath#swiglu} with the same exponential. The
 * downcall is critical with heap access: q, the caches and the output are heap arrays passed without copies.
 */
final class NativeLlamaCpu {

    private static final NativeLlamaCpu INSTANCE = load();
    /**
     * The handles as constants for the JIT (a record's components behind a static final are trusted): a compiled caller
     * links straight to the native stub, where a handle read from a plain instance field goes through a chain of
     * method-handle adapters, interpreted for the first hundreds of decode steps of a run.
     */
    private record Hot(MethodHandle attend, MethodHandle attendF16, MethodHandle attendF16Prompt, MethodHandle swiglu) {
    }
    private static final Hot HOT = new Hot(INSTANCE.attend, INSTANCE.attendF16, INSTANCE.attendF16Prompt, INSTANCE.swiglu);

    private final MethodHandle attend;
    private final MethodHandle attendF16;
    private final MethodHandle attendF16Prompt;
    private final MethodHandle swiglu;
    private final String why;

    private NativeLlamaCpu(MethodHandle attend, MethodHandle attendF16, MethodHandle attendF16Prompt, MethodHandle swiglu, String why) {
        this.attend = attend;
        this.attendF16 = attendF16;
        this.attendF16Prompt = attendF16Prompt;
        this.swiglu = swiglu;
        this.why = why;
    }

    /** The process's instance (the library is loaded once). */
    static NativeLlamaCpu get() {
        return INSTANCE;
    }

    private static NativeLlamaCpu load() {
        NativeLibrary lib = NativeLibrary.open("libflexq_runtime", NativeLlamaCpu.class);
        if (lib.lookup().isEmpty()) {
            return new NativeLlamaCpu(null, null, null, null, lib.why());
        }
        try {
            Linker linker = Linker.nativeLinker();
            MethodHandle level = linker.downcallHandle(lib.lookup().get().findOrThrow("flexq_rt_level"), FunctionDescriptor.of(JAVA_INT));
            if ((int) level.invokeExact() < 2) {
                return new NativeLlamaCpu(null, null, null, null, "the native attention and SwiGLU need AVX-512F");
            }
            FunctionDescriptor attention = FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT, ADDRESS, ADDRESS, ADDRESS,
                    JAVA_INT, JAVA_INT, JAVA_INT, JAVA_FLOAT, JAVA_INT, JAVA_INT, JAVA_INT);
            MethodHandle h = linker.downcallHandle(lib.lookup().get().findOrThrow("flexq_attention"), attention, Linker.Option.critical(true));
            MethodHandle h16 = linker.downcallHandle(lib.lookup().get().findOrThrow("flexq_attention_f16"),
                    FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT, ADDRESS, ADDRESS, JAVA_LONG, JAVA_LONG, ADDRESS,
                            JAVA_INT, JAVA_INT, JAVA_INT, JAVA_FLOAT, JAVA_INT, JAVA_INT, JAVA_INT),
                    Linker.Option.critical(true));
            MethodHandle h16p = linker.downcallHandle(lib.lookup().get().findOrThrow("flexq_attention_f16_prompt"),
                    FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT, ADDRESS, ADDRESS, JAVA_LONG, JAVA_LONG, ADDRESS,
                            JAVA_INT, JAVA_INT, JAVA_INT, JAVA_FLOAT, JAVA_INT, JAVA_INT),
                    Linker.Option.critical(true));
            MethodHandle sw = linker.downcallHandle(lib.lookup().get().findOrThrow("flexq_swiglu"),
                    FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, JAVA_LONG), Linker.Option.critical(true));
            return new NativeLlamaCpu(h, h16, h16p, sw, "native AVX-512F");
        } catch (Throwable e) {
            return new NativeLlamaCpu(null, null, null, null, "native attention unavailable: " + e);
        }
    }

    /** True when {@link #attend} runs for head size {@code hs}. */
    boolean runs(int hs) {
        return attend != null && hs % 16 == 0 && hs > 0;
    }

    /** True when {@link #swiglu} runs. */
    boolean runsSwiglu() {
        return swiglu != null;
    }

    /** {@code gate[i] = silu(gate[i]) * up[i]} for i in [0, n), as VectorMath.swiglu with the vectorized exponential. */
    void swiglu(float[] gate, float[] up, int n) {
        swiglu(gate, up, 0, n);
    }

    /** Elements [from, to) only (each element alone, with a masked tail: the same bits as in a whole-array call). */
    void swiglu(float[] gate, float[] up, int from, int to) {
        if (from < 0 || from > to || to > gate.length || to > up.length) {
            throw new IllegalArgumentException("native swiglu: elements [" + from + ", " + to + "), arrays of " + gate.length + " and " + up.length);
        }
        swiglu(MemorySegment.ofArray(gate), MemorySegment.ofArray(up), from, to);
    }

    /**
     * As above on the floats of two segments (a prompt's gate and up batches, in place: no copies to and from heap
     * arrays); the same loop, so the same bits.
     */
    void swiglu(MemorySegment gate, MemorySegment up, long from, long to) {
        if (from < 0 || from > to || 4 * to > gate.byteSize() || 4 * to > up.byteSize()) {
            throw new IllegalArgumentException("native swiglu: elements [" + from + ", " + to + "), segments of " + gate.byteSize()
                    + " and " + up.byteSize() + " bytes");
        }
        int rc;
        try {
            rc = (int) HOT.swiglu().invokeExact(gate.asSlice(4L * from), up.asSlice(4L * from), to - from);
        } catch (Throwable e) {
            throw new IllegalStateException("native swiglu failed", e);
        }
        if (rc != 0) {
            throw new IllegalStateException("native swiglu returned " + rc);
        }
    }

    String why() {
        return why;
    }

    /**
     * The most query heads of one group the kernel does together (each key and value row read once for them): as
     * many as fit 16 vector accumulators, 1 past head size 256.
     */
    static int maxHeadBlock(LlamaConfig c) {
        int chunks = c.headSize() / 16;
        return chunks <= 16 ? Math.min(c.groupSize(), 16 / chunks) : 1;
    }

    /** Tasks of n tokens with query heads in blocks of qb: one per (token, key/value head, block). */
    static int tasks(LlamaConfig c, int n, int qb) {
        return n * c.kvHeads() * ((c.groupSize() + qb - 1) / qb);
    }

    /**
     * Tasks [from, to) of {@link #tasks}: (token t, key/value head g, block b) = (t * kvHeads + g) * blocks + b, query
     * heads in blocks of qb (1 to {@link #maxHeadBlock}); arrays as {@link Attention#attend}.
     */
    void attend(LlamaConfig c, float[] q, int n, int pos, float[] keys, float[] values, float[] out, float scale, int qb,
                int from, int to) {
        check(c, q, n, pos, keys.length, values.length, c.kvDim(), c.headSize(), out, headTasks(c, n, qb), from, to);
        int rc;
        try {
            rc = (int) HOT.attend().invokeExact(MemorySegment.ofArray(q), n, pos, MemorySegment.ofArray(keys), MemorySegment.ofArray(values),
                    MemorySegment.ofArray(out), c.heads(), c.kvHeads(), c.headSize(), scale, qb, from, to);
        } catch (Throwable e) {
            throw new IllegalStateException("native attention failed", e);
        }
        done(rc);
    }

    /**
     * As above over a cache of half floats (the bits of {@link Float#floatToFloat16}), for head sizes {@link #runs}:
     * element i of key/value head g at position j is at {@code j * rowStride + g * headStride + i} (the float cache's
     * layout: kvDim, headSize; each head's rows together: headSize, rows * headSize).
     */
    void attend(LlamaConfig c, float[] q, int n, int pos, short[] keys, short[] values, long rowStride, long headStride,
                float[] out, float scale, int qb, int from, int to) {
        check(c, q, n, pos, keys.length, values.length, rowStride, headStride, out, headTasks(c, n, qb), from, to);
        int rc;
        try {
            rc = (int) HOT.attendF16().invokeExact(MemorySegment.ofArray(q), n, pos, MemorySegment.ofArray(keys), MemorySegment.ofArray(values),
                    rowStride, headStride, MemorySegment.ofArray(out), c.heads(), c.kvHeads(), c.headSize(), scale, qb, from, to);
        } catch (Throwable e) {
            throw new IllegalStateException("native attention failed", e);
        }
        done(rc);
    }

    /** Query tokens per task of {@link #attendPrompt}: one vector lane each. */
    static final int PROMPT_TOKENS = 16;

    /** Tasks of {@link #attendPrompt}: one per (block of {@value #PROMPT_TOKENS} tokens, key/value head). */
    static int promptTasks(LlamaConfig c, int n) {
        return Math.ceilDiv(n, PROMPT_TOKENS) * c.kvHeads();
    }

    /**
     * A prompt's attention over a half-float cache (layout as above) with 16 tokens in the lanes of a vector
     * ({@code flexq_attention_f16_prompt}): tasks [from, to) of {@link #promptTasks}, task (tblock * kvHeads + g) =
     * tokens 16 tblock .. for every query head of key/value head g. Each token's results do not depend on the tasks or
     * threads; they agree with {@link #attend} within float rounding (the scores and the exponentials are summed in
     * another order).
     */
    void attendPrompt(LlamaConfig c, float[] q, int n, int pos, short[] keys, short[] values, long rowStride, long headStride,
                      float[] out, float scale, int from, int to) {
        check(c, q, n, pos, keys.length, values.length, rowStride, headStride, out, promptTasks(c, n), from, to);
        int rc;
        try {
            rc = (int) HOT.attendF16Prompt().invokeExact(MemorySegment.ofArray(q), n, pos, MemorySegment.ofArray(keys),
                    MemorySegment.ofArray(values), rowStride, headStride, MemorySegment.ofArray(out), c.heads(), c.kvHeads(),
                    c.headSize(), scale, from, to);
        } catch (Throwable e) {
            throw new IllegalStateException("native attention failed", e);
        }
        done(rc);
    }

    // the C side trusts its arguments: check what it reads and writes
    /** {@link #tasks} for a head block the kernel accepts (1 to {@link #maxHeadBlock}), else an error. */
    private static int headTasks(LlamaConfig c, int n, int qb) {
        if (qb < 1 || qb > maxHeadBlock(c)) {
            throw new IllegalArgumentException("native attention: head blocks of " + qb + ", the kernel takes 1 to " + maxHeadBlock(c));
        }
        return tasks(c, n, qb);
    }

    /** The arrays hold what n tokens at pos read and write, and [from, to) lies within the kernel's {@code tasks}. */
    private static void check(LlamaConfig c, float[] q, int n, int pos, int keys, int values, long rowStride, long headStride,
                              float[] out, int tasks, int from, int to) {
        int hs = c.headSize();
        // the last element read: head kvHeads - 1, position pos + n - 1, element hs - 1
        long end = (c.kvHeads() - 1L) * headStride + (pos + n - 1L) * rowStride + hs;
        if ((long) n * c.qDim() > q.length || (long) n * c.qDim() > out.length
                || rowStride < hs || headStride < hs || end > keys || end > values
                || from < 0 || to > tasks || from > to) {
            throw new IllegalArgumentException("native attention: " + n + " tokens at " + pos + ", tasks [" + from + ", " + to
                    + ") of " + tasks + " do not fit the arrays");
        }
    }

    private static void done(int rc) {
        if (rc != 0) {
            throw new IllegalStateException("native attention returned " + rc);
        }
    }
}
