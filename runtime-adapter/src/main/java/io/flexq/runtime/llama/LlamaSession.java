package io.flexq.runtime.llama;

import io.flexq.runtime.spi.ActivationBatch;
import io.flexq.runtime.spi.DecoderOffload;
import io.flexq.runtime.spi.WeightMatrix;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * One sequence being decoded: a KV cache and the position reached. {@link #forward} runs a batch of tokens at
 * positions [position, position + n): a prompt goes through as one batch (one matmul per weight per layer over all
 * its tokens, in chunks of at most batchCapacity), a decode step as a batch of one.
 *
 * <p>Per block, on the residual stream x (one row per token):
 * <pre>
 *   h  = RMSNorm(x) * attn_norm;  q, k, v = h Wq, h Wk, h Wv;  RoPE(q, k) at each token's position
 *   x += Attention(q, K, V) Wo                                (causal, grouped-query, K/V cached)
 *   h  = RMSNorm(x) * ffn_norm;   x += (silu(h Wgate) * h Wup) Wdown
 * </pre>
 * then logits = RMSNorm(x) * output_norm Woutput. Not thread-safe: one thread drives a session.
 */
public final class LlamaSession implements AutoCloseable {

    private static final ValueLayout.OfFloat F = ValueLayout.JAVA_FLOAT;
    private static final io.flexq.runtime.sample.GreedySampler GREEDY = new io.flexq.runtime.sample.GreedySampler();
    /** Logit rows computed per head matmul when every token's logits are asked for (bounds that batch's memory). */
    private static final long LOGIT_BATCH_BYTES = 64L << 20;

    private final LlamaConfig c;
    private final LlamaWeights weights;
    private final Rope rope;
    private final DecoderOffload.Sequence device;
    /** The spinning team of the first query matrix, or null: attention runs on it. */
    private final io.flexq.runtime.cpu.SpinTeam team;
    private final int capacity;
    private final int batchCapacity;
    private int position;

    // KV cache on the heap (fp16 where the native attention runs, else fp32; -Dflexq.cpu.kv: KvCache), grown on demand up to capacity rows.
    private final KvCache cache;

    // Off-heap batches the weight matrices read and write (shared arena: backends may use several threads).
    private final Arena arena = Arena.ofShared();
    private final ActivationBatch xb, q, k, v, att, proj, gate, up;
    // head input/output: one row for decode; a larger pair is made on the first forwardAll
    private ActivationBatch lastNorm, logits;

    // Heap working rows, batchCapacity rows each.
    private final float[] x, hb, qh, kh, vh, atth, cos, sin;
    /** Heap copies of gate and up for the Java SwiGLU (null where the native one runs in place on the batches). */
    private final float[] gateh, uph;

    /** Where the KV cache goes when the session closes (the model keeps one for its next session), or null. */
    private final java.util.function.Consumer<KvCache> cacheReturn;
    private boolean closed;

    /**
     * @param cache       a KV cache that fits (layers, capacity) and that no open session uses, or null for a new one
     * @param cacheReturn receives the cache at {@link #close()} (null: dropped)
     */
    LlamaSession(LlamaConfig c, LlamaWeights weights, Rope rope, DecoderOffload.Sequence device, int capacity, int batchCapacity,
                 KvCache cache, java.util.function.Consumer<KvCache> cacheReturn) {
        this.c = c;
        this.weights = weights;
        this.rope = rope;
        this.device = device;
        // attention runs on the threads of the matmuls (in a decode step: no second pool to wake while they spin)
        this.team = device == null && !weights.blocks().isEmpty()
                ? weights.blocks().get(0).wq().decodeTeam().orElse(null) : null;
        this.capacity = capacity;
        this.batchCapacity = batchCapacity;
        // on a device the host needs none of the working buffers below: keep them minimal
        int b = device == null ? batchCapacity : 1;
        this.cache = cache != null ? cache : KvCache.create(c, device == null ? c.layers() : 0, capacity);
        this.cacheReturn = cacheReturn;
        xb = ActivationBatch.allocate(arena, b, c.dim());
        q = ActivationBatch.allocate(arena, b, c.qDim());
        k = ActivationBatch.allocate(arena, b, c.kvDim());
        v = ActivationBatch.allocate(arena, b, c.kvDim());
        att = ActivationBatch.allocate(arena, b, c.qDim());
        proj = ActivationBatch.allocate(arena, b, c.dim());
        gate = ActivationBatch.allocate(arena, b, c.hiddenDim());
        up = ActivationBatch.allocate(arena, b, c.hiddenDim());
        lastNorm = ActivationBatch.allocate(arena, 1, c.dim());
        logits = ActivationBatch.allocate(arena, 1, c.vocabSize());
        x = new float[b * c.dim()];
        hb = new float[b * c.dim()];
        qh = new float[b * c.qDim()];
        kh = new float[b * c.kvDim()];
        vh = new float[b * c.kvDim()];
        atth = new float[b * c.qDim()];
        boolean inPlace = NativeLlamaCpu.get().runsSwiglu();
        gateh = inPlace ? null : new float[b * c.hiddenDim()];
        uph = inPlace ? null : new float[b * c.hiddenDim()];
        cos = new float[b * rope.pairs()];
        sin = new float[b * rope.pairs()];
    }

    public LlamaConfig config() {
        return c;
    }

    /** Positions already in the KV cache: the next token goes at this position. */
    public int position() {
        return position;
    }

    /** The KV cache (tests: which session's cache a new session took over). */
    KvCache kvCache() {
        return cache;
    }

    /** Positions this session can hold. */
    public int capacity() {
        return capacity;
    }

    /** Forgets every position from {@code newPosition} on (to reuse a shared prefix, or restart at 0). */
    public void rewind(int newPosition) {
        if (newPosition < 0 || newPosition > position) {
            throw new IllegalArgumentException("cannot rewind to " + newPosition + ": the session is at position " + position);
        }
        position = newPosition;
        if (device != null) {
            device.rewind(newPosition);
        }
    }

    /** Runs tokens[off, off + n) and returns the logits after the last of them. */
    public float[] forward(int[] tokens, int off, int n) {
        float[][] out = run(tokens, off, n, false);
        return out[0];
    }

    /** Runs tokens[off, off + n) and returns the logits after each of them: [n][vocab]. */
    public float[][] forwardAll(int[] tokens, int off, int n) {
        return run(tokens, off, n, true);
    }

    /**
     * Runs tokens[off, off + n) and returns the argmax of the logits after the last of them (lowest id among equal
     * maxima, as {@link io.flexq.runtime.sample.GreedySampler}). On a device only that id comes back to the host.
     */
    public int forwardGreedy(int[] tokens, int off, int n) {
        if (device == null) {
            return GREEDY.sample(forward(tokens, off, n));
        }
        check(tokens, off, n);
        int next = -1;
        for (int done = 0; done < n; ) {
            int chunk = Math.min(batchCapacity, n - done);
            next = device.forward(tokens, off + done, chunk, done + chunk == n ? DecoderOffload.Want.GREEDY : DecoderOffload.Want.NOTHING);
            position += chunk;
            done += chunk;
        }
        return next;
    }

    /** The device sequence, for a batched step across sessions ({@link Llama#decodeGreedy}). */
    DecoderOffload.Sequence deviceSequence() {
        return device;
    }

    /** Checks that one more token fits (before a batched step), and counts it afterwards via {@link #advanced}. */
    void checkBatchable(int token) {
        check(new int[]{token}, 0, 1);
    }

    void advanced(int n) {
        position += n;
    }

    private void check(int[] tokens, int off, int n) {
        if (n <= 0) {
            throw new IllegalArgumentException("forward needs at least one token, got " + n);
        }
        java.util.Objects.checkFromIndexSize(off, n, tokens.length);
        if ((long) position + n > capacity) {
            throw new ContextLengthException("context full: " + position + " positions used + " + n + " new tokens > "
                    + capacity + " (the session's context length)");
        }
        for (int i = 0; i < n; i++) {
            int t = tokens[off + i];
            if (t < 0 || t >= c.vocabSize()) {
                throw new IllegalArgumentException("token id " + t + " at index " + (off + i) + " is outside the vocabulary [0, " + c.vocabSize() + ")");
            }
        }
    }

    private float[][] run(int[] tokens, int off, int n, boolean all) {
        check(tokens, off, n);
        if (closed) {
            throw new IllegalStateException("the session is closed");
        }
        if (device != null) {
            return runOnDevice(tokens, off, n, all);
        }
        float[][] result = new float[all ? n : 1][];
        // the cache rows of the whole prompt at once: chunk by chunk, each chunk would copy the rows before it again
        cache.ensure(position + n);
        for (int done = 0; done < n; ) {
            int chunk = Math.min(batchCapacity, n - done);
            PromptProfile p = PromptProfile.start(chunk);
            runChunk(tokens, off + done, chunk, p);
            if (all) {
                logits(chunk, 0, result, done);
            } else if (done + chunk == n) {
                logits(1, chunk - 1, result, 0);
            }
            lap(p, PromptProfile.Stage.HEAD);
            done += chunk;
        }
        return result;
    }

    /** The whole forward on the device, in chunks of batchCapacity; logits come back only where asked. */
    private float[][] runOnDevice(int[] tokens, int off, int n, boolean all) {
        float[][] result = new float[all ? n : 1][];
        for (int done = 0; done < n; ) {
            int chunk = Math.min(batchCapacity, n - done);
            boolean last = done + chunk == n;
            DecoderOffload.Want want = all ? DecoderOffload.Want.ALL_LOGITS : last ? DecoderOffload.Want.LAST_LOGITS : DecoderOffload.Want.NOTHING;
            device.forward(tokens, off + done, chunk, want);
            position += chunk;
            if (all) {
                for (int i = 0; i < chunk; i++) {
                    result[done + i] = new float[c.vocabSize()];
                    device.logits(i, result[done + i]);
                }
            } else if (last) {
                result[0] = new float[c.vocabSize()];
                device.logits(0, result[0]);
            }
            done += chunk;
        }
        return result;
    }

    /**
     * Runs n tokens at [position, position + n) through the blocks (their cache rows made by the caller), leaving the
     * residual stream in x.
     */
    private void runChunk(int[] tokens, int off, int n, PromptProfile p) {
        int dim = c.dim();
        // per token, so on the team for a prompt (with the embedding rows dequantized on the caller alone, this stage
        // took 6-8% of a 16-thread prompt of the 27M model)
        perTokens(n, (t0, t1) -> {
            for (int t = t0; t < t1; t++) {
                weights.embed(tokens[off + t], x, t * dim);
                rope.angles(position + t, cos, sin, t * rope.pairs());
            }
        });
        lap(p, PromptProfile.Stage.EMBED_ROPE);
        for (int l = 0; l < c.layers(); l++) {
            block(weights.blocks().get(l), l, n, p);
        }
        position += n;
    }

    private void block(LlamaWeights.Block w, int layer, int n, PromptProfile p) {
        int dim = c.dim();
        int qDim = c.qDim();
        int kvDim = c.kvDim();
        int hidden = c.hiddenDim();
        int pairs = rope.pairs();

        // attention: q, k, v of every token in one matmul each; k (rotated) and v then go into the cache rows.
        // The steps between two matmuls are per token: a prompt runs each such group as one job of token ranges on
        // the team (the copies to and from the batches included), so none of it waits on one thread.
        xb.setTokens(n);
        perTokens(n, (t0, t1) -> {
            for (int t = t0; t < t1; t++) {
                VectorMath.rmsNorm(x, t * dim, w.attnNorm(), c.rmsEps(), xb.data(), 4L * t * dim, dim);
            }
        });
        xb.changed();
        lap(p, PromptProfile.Stage.NORM);
        w.wq().matmul(xb, q);
        w.wk().matmul(xb, k);
        w.wv().matmul(xb, v);
        lap(p, PromptProfile.Stage.QKV);
        perTokens(n, (t0, t1) -> {
            store(q, qh, t0, t1);
            store(k, kh, t0, t1);
            store(v, vh, t0, t1);
            for (int t = t0; t < t1; t++) {
                rope.rotate(qh, t * qDim, c.heads(), cos, sin, t * pairs);
                rope.rotate(kh, t * kvDim, c.kvHeads(), cos, sin, t * pairs);
            }
            cache.write(layer, kh, vh, position, t0, t1);
        });
        lap(p, PromptProfile.Stage.ROTATE_CACHE);
        cache.attend(layer, qh, n, position, atth, team);
        att.setTokens(n);
        perTokens(n, (t0, t1) -> load(att, atth, t0, t1));
        att.changed();
        lap(p, PromptProfile.Stage.ATTENTION);
        w.wo().matmul(att, proj);
        lap(p, PromptProfile.Stage.WO);

        // SwiGLU MLP (the residual add of the attention output, then the norm)
        xb.setTokens(n);
        perTokens(n, (t0, t1) -> {
            VectorMath.add(proj.data(), x, t0 * dim, t1 * dim);
            for (int t = t0; t < t1; t++) {
                VectorMath.rmsNorm(x, t * dim, w.ffnNorm(), c.rmsEps(), xb.data(), 4L * t * dim, dim);
            }
        });
        xb.changed();
        lap(p, PromptProfile.Stage.NORM);
        w.gate().matmul(xb, gate);
        w.up().matmul(xb, up);
        lap(p, PromptProfile.Stage.GATE_UP);
        perTokens(n, (t0, t1) -> {
            if (gateh == null) {
                // in place on the batches: the native loop reads them as it reads heap arrays (the same bits)
                NativeLlamaCpu.get().swiglu(gate.data(), up.data(), (long) t0 * hidden, (long) t1 * hidden);
            } else {
                store(gate, gateh, t0, t1);
                store(up, uph, t0, t1);
                VectorMath.swiglu(gateh, uph, t0 * hidden, t1 * hidden);
                load(gate, gateh, t0, t1);
            }
        });
        gate.changed();
        lap(p, PromptProfile.Stage.SWIGLU);
        w.down().matmul(gate, proj);
        perTokens(n, (t0, t1) -> VectorMath.add(proj.data(), x, t0 * dim, t1 * dim));
        lap(p, PromptProfile.Stage.DOWN);
    }

    private static void lap(PromptProfile p, PromptProfile.Stage stage) {
        if (p != null) {
            p.lap(stage);
        }
    }

    /** Tokens of a prompt at least this long spread their per-token steps (norms, RoPE, residual adds) over the team. */
    private static final int PARALLEL_TOKENS = 16;

    /**
     * body(t0, t1) over [0, n) in token ranges: on the team for a prompt, else on this thread. The steps are per token,
     * so the split does not change any bits.
     */
    private void perTokens(int n, TokenRange body) {
        if (team == null || n < PARALLEL_TOKENS || team.threads() < 2) {
            body.run(0, n);
            return;
        }
        int chunks = Math.min(n, 4 * team.threads());
        team.run(chunks, i -> body.run((int) ((long) n * i / chunks), (int) ((long) n * (i + 1) / chunks)));
    }

    @FunctionalInterface
    private interface TokenRange {
        void run(int t0, int t1);
    }

    /** Final norm and output head for rows [firstRow, firstRow + rows) of x, into result[resultOff ..]. */
    private void logits(int rows, int firstRow, float[][] result, int resultOff) {
        int dim = c.dim();
        int vocab = c.vocabSize();
        WeightMatrix head = weights.output();
        int wanted = (int) Math.max(1, Math.min(Math.min(rows, batchCapacity), LOGIT_BATCH_BYTES / (4L * vocab)));
        if (wanted > lastNorm.capacity()) {
            lastNorm = ActivationBatch.allocate(arena, wanted, dim);
            logits = ActivationBatch.allocate(arena, wanted, vocab);
        }
        for (int done = 0; done < rows; ) {
            int m = Math.min(lastNorm.capacity(), rows - done);
            for (int i = 0; i < m; i++) {
                VectorMath.rmsNorm(x, (firstRow + done + i) * dim, weights.outputNorm(), c.rmsEps(), hb, i * dim, dim);
            }
            load(lastNorm, hb, m);
            head.matmul(lastNorm, logits);
            for (int i = 0; i < m; i++) {
                float[] row = new float[vocab];
                MemorySegment.copy(logits.data(), F, logits.offsetOf(i, 0), row, 0, vocab);
                result[resultOff + done + i] = row;
            }
            done += m;
        }
    }

    /** Writes n rows of src into batch (its first n rows), dropping its derived forms. */
    private static void load(ActivationBatch batch, float[] src, int n) {
        batch.setTokens(n);
        load(batch, src, 0, n);
        batch.changed();
    }

    /**
     * Writes rows [t0, t1) of src into the same rows of batch, which keeps its derived forms: the caller sets the
     * batch's token count before and calls {@link ActivationBatch#changed()} once every range is written.
     */
    private static void load(ActivationBatch batch, float[] src, int t0, int t1) {
        int d = batch.dim();
        MemorySegment.copy(src, t0 * d, batch.data(), F, 4L * t0 * d, (t1 - t0) * d);
    }

    /** Copies rows [t0, t1) of batch into the same rows of dst. */
    private static void store(ActivationBatch batch, float[] dst, int t0, int t1) {
        int d = batch.dim();
        MemorySegment.copy(batch.data(), F, 4L * t0 * d, dst, t0 * d, (t1 - t0) * d);
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        if (cacheReturn != null && device == null) {
            cacheReturn.accept(cache);
        }
        arena.close();
        if (device != null) {
            device.close();
        }
    }
}
