package io.flexq.runtime.llama;

import io.flexq.runtime.cpu.SpinTeam;

import java.util.function.IntConsumer;
import java.util.stream.IntStream;

/**
 * Causal grouped-query attention of a batch of n query tokens at positions [pos, pos + n) over a KV cache that
 * already holds keys and values for positions [0, pos + n). Query head h reads key/value head h / groupSize.
 * For token t at position p = pos + t and head h:
 * <pre>
 *   a_j   = softmax_j( q_t,h . k_j / sqrt(headSize) ),  j = 0..p
 *   out_t,h = sum_j a_j v_j
 * </pre>
 * The (token, head) pairs are independent and run in parallel. Where the native library runs (AVX-512F, head size a
 * multiple of 16) {@link NativeLlamaCpu} computes them, with the same scores and a vectorized exponential; over a
 * half-float cache, prompts of 16 tokens or more take its kernel with 16 tokens in the vector lanes (scores and sums in
 * another order, within float rounding; 2.1-2.3x faster for the 27M model's 512-token prompt on two threads).
 */
final class Attention {

    private Attention() {
    }

    /**
     * @param q      n rows of qDim floats (rotated queries)
     * @param keys   cache rows of kvDim floats, row j = position j (rotated keys)
     * @param values cache rows of kvDim floats
     * @param out    n rows of qDim floats, written
     */
    static void attend(LlamaConfig c, float[] q, int n, int pos, float[] keys, float[] values, float[] out) {
        attend(c, q, n, pos, keys, values, out, null);
    }

    /**
     * As above, on {@code team} when given (the threads of the model's matmuls: in a decode step they spin between
     * the matmuls, and with one thread everything stays on the caller, as {@code --threads 1} asks) instead of the
     * common pool. Tasks are independent, so the results are the same bits.
     */
    static void attend(LlamaConfig c, float[] q, int n, int pos, float[] keys, float[] values, float[] out, SpinTeam team) {
        float scale = scale(c);
        NativeLlamaCpu fast = NativeLlamaCpu.get();
        if (fast.runs(c.headSize())) {
            int qb = headBlock(c, n, team);
            onTasks(NativeLlamaCpu.tasks(c, n, qb), team,
                    (from, to) -> fast.attend(c, q, n, pos, keys, values, out, scale, qb, from, to));
            return;
        }
        attendJava(c, q, n, pos, keys, values, out, team);
    }

    /**
     * As above over a cache of half floats (the bits of {@link Float#floatToFloat16}), element i of key/value head g at
     * position j at {@code j * rowStride + g * headStride + i}: the native path only, for head sizes where
     * {@link NativeLlamaCpu#runs} (the cache is made F16 only there: {@link KvCache#create}).
     */
    static void attend(LlamaConfig c, float[] q, int n, int pos, short[] keys, short[] values, long rowStride, long headStride,
                       float[] out, SpinTeam team) {
        NativeLlamaCpu fast = NativeLlamaCpu.get();
        if (!fast.runs(c.headSize())) {
            throw new IllegalStateException("attention over a half-float cache needs the native kernel (head size "
                    + c.headSize() + "): " + fast.why());
        }
        float scale = scale(c);
        if (n >= NativeLlamaCpu.PROMPT_TOKENS && PROMPT_KERNEL) {
            onTasks(NativeLlamaCpu.promptTasks(c, n), team,
                    (from, to) -> fast.attendPrompt(c, q, n, pos, keys, values, rowStride, headStride, out, scale, from, to));
            return;
        }
        int qb = headBlock(c, n, team);
        onTasks(NativeLlamaCpu.tasks(c, n, qb), team,
                (from, to) -> fast.attend(c, q, n, pos, keys, values, rowStride, headStride, out, scale, qb, from, to));
    }

    /**
     * Prompts of at least {@link NativeLlamaCpu#PROMPT_TOKENS} tokens over a half-float cache take the kernel with tokens
     * in the vector lanes ({@link NativeLlamaCpu#attendPrompt}); {@code -Dflexq.cpu.promptAttention=false} keeps them on
     * the one-token loop (A/B runs).
     */
    static final boolean PROMPT_KERNEL = !"false".equals(System.getProperty("flexq.cpu.promptAttention"));

    /**
     * Query heads per native task: as many as share a register tile ({@link NativeLlamaCpu#maxHeadBlock}: each key
     * and value row is read once for them), halved while there are fewer tasks than threads. A decode step has one
     * task per key/value head otherwise, 8 for Llama-3 shapes, which would leave half of 16 cores idle; a smaller
     * block reads the rows once more per block, from the cache the other block's thread is also reading.
     */
    private static int headBlock(LlamaConfig c, int n, SpinTeam team) {
        int threads = team != null ? team.threads() : Runtime.getRuntime().availableProcessors();
        int qb = NativeLlamaCpu.maxHeadBlock(c);
        while (qb > 1 && NativeLlamaCpu.tasks(c, n, qb) < threads) {
            qb = (qb + 1) / 2;
        }
        return qb;
    }

    private static float scale(LlamaConfig c) {
        return (float) (1.0 / Math.sqrt(c.headSize()));
    }

    /** Tasks [from, to) of the native kernel ({@link NativeLlamaCpu#tasks}). */
    private interface TaskRange {
        void run(int from, int to);
    }

    /**
     * Contiguous ranges of the tasks, one native call each, on the team or else the common pool. A prompt's tasks
     * grow with the token (causal: token t reads pos + t + 1 rows), so its last range is the largest; 16 ranges per
     * thread keep that one below a few percent of the work (with 4 per thread, by the sizes of the ranges, one of two
     * threads could wait for about an eighth of a 512-token prompt's attention). Threads claim ranges in the order
     * of their index, so range i is the i-th from the end: the largest go first and the small ones fill the gaps.
     */
    private static void onTasks(int tasks, SpinTeam team, TaskRange range) {
        int perThread = tasks >= 64 * 16 ? 16 : 4;
        int chunks = Math.min(tasks, perThread * (team != null ? team.threads() : Runtime.getRuntime().availableProcessors()));
        IntConsumer chunk = i -> {
            int r = chunks - 1 - i;
            range.run((int) ((long) tasks * r / chunks), (int) ((long) tasks * (r + 1) / chunks));
        };
        if (team != null) {
            team.run(chunks, chunk);
        } else {
            IntStream.range(0, chunks).parallel().forEach(chunk);
        }
    }

    /** The Vector API path of {@link #attend} (every head size; what runs without the native library). */
    static void attendJava(LlamaConfig c, float[] q, int n, int pos, float[] keys, float[] values, float[] out) {
        attendJava(c, q, n, pos, keys, values, out, null);
    }

    /** As above, on {@code team} when given (one task per token and query head). */
    static void attendJava(LlamaConfig c, float[] q, int n, int pos, float[] keys, float[] values, float[] out, SpinTeam team) {
        int heads = c.heads();
        int hs = c.headSize();
        int qDim = c.qDim();
        int kvDim = c.kvDim();
        int group = c.groupSize();
        float scale = (float) (1.0 / Math.sqrt(hs));
        IntConsumer head = task -> {
            int t = task / heads;
            int h = task % heads;
            int length = pos + t + 1;
            int qOff = t * qDim + h * hs;
            int kvOff = (h / group) * hs;
            float[] scores = new float[length];
            for (int j = 0; j < length; j++) {
                scores[j] = VectorMath.dot(q, qOff, keys, j * kvDim + kvOff, hs) * scale;
            }
            VectorMath.softmax(scores, length);
            java.util.Arrays.fill(out, qOff, qOff + hs, 0f);
            for (int j = 0; j < length; j++) {
                VectorMath.axpy(scores[j], values, j * kvDim + kvOff, out, qOff, hs);
            }
        };
        if (team != null) {
            team.run(n * heads, head);
        } else {
            IntStream.range(0, n * heads).parallel().forEach(head);
        }
    }
}
