package io.flexq.cuda;

import io.flexq.runtime.llama.LlamaConfig;
import io.flexq.runtime.llama.RopeAngles;
import io.flexq.runtime.model.ModelFile;
import io.flexq.runtime.spi.DecoderOffload;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;

/**
 * A whole Llama resident on one CUDA device: embedding, every block (RMSNorm fused with the residual add and the
 * activation quantizer, stacked QKV matmul, RoPE + fp16 KV-cache store, split-length attention, O matmul, stacked
 * gate/up matmul, SwiGLU fused with the quantizer, down matmul), final norm, output head and argmax. One forward of
 * M rows is one sequence of launches on the model's stream ({@link #encode}); forwards of up to
 * {@link #GRAPH_ROWS} rows are captured once per shape into a CUDA graph and replayed, so a decode step costs one
 * 24-byte row-table copy, one graph launch and one 4-byte id copy from Java.
 *
 * <p>Thread-safe: forwards are serialized on the model (one stream). Sequences carry their own KV caches.
 */
final class CudaModel implements DecoderOffload.DeviceModel {

    /** Forwards of at most this many rows replay CUDA graphs (decode steps, batched decode); larger ones launch directly. */
    static final int GRAPH_ROWS = 64;

    record Layer(DeviceBuffer attnNorm, Projection qkv, DeviceLinear wo, DeviceBuffer ffnNorm, Projection gateUp, DeviceLinear down) {
    }

    enum Head { NONE, LAST, ALL }

    private record GraphKey(int rows, Head head, boolean argmax, int chunks, boolean separate) {
    }

    final LlamaConfig c;
    final CudaDevice dev;
    private final CudaStream stream;
    private final FlexqKernels k;
    private final DecoderKernels d;
    private final CublasGemm blas;
    private final DeviceBuffer blasWorkspace;
    private final RopeAngles rope;
    private final DeviceBuffer embedding;
    private final boolean embeddingF16;
    private final List<Layer> layers;
    private final DeviceBuffer outNorm;
    private final DeviceLinear head;
    private final int maxCols;
    private final boolean needsStaging;
    private final long weightBytes;
    private final String summary;
    private final boolean useGraphs = !Boolean.getBoolean("flexq.cuda.noGraphs");
    /**
     * {@code -Dflexq.cuda.fuseRope=false}: the separate RoPE + cache-store kernel at every size; {@code fuseNorm=false}:
     * the residual added by the norms, which then sum the squares themselves (A/B runs).
     */
    private final boolean fuseRope = !"false".equals(System.getProperty("flexq.cuda.fuseRope"));
    private final boolean fuseNorm = !"false".equals(System.getProperty("flexq.cuda.fuseNorm"));
    /**
     * {@code -Dflexq.cuda.timingSkip=...} (comma-separated) leaves kernels out of every forward, so a benchmark can time
     * what each costs inside the replayed step (its launch, overlap and waits included, which per-kernel timing misses):
     * {@code gemv} the unfused matmuls, {@code other} every kernel but the matmuls, or single stages: {@code qkv},
     * {@code attention}, {@code o}, {@code norm}, {@code gateup}, {@code swiglu}, {@code down}, {@code head}. The outputs
     * are garbage: benchmarks only, never a user run.
     */
    private final Set<String> timingSkip = Set.of(System.getProperty("flexq.cuda.timingSkip", "").split(","));
    private final boolean skipGemv = timingSkip.contains("gemv"), skipOther = timingSkip.contains("other");

    private boolean skips(String stage) {
        return timingSkip.contains(stage);
    }
    private final Map<GraphKey, CudaStream.Graph> graphs = new HashMap<>();
    private DeviceBuffer cos, sin;
    private int ropePositions;
    private DecoderWork work;
    private DecoderProfile profile;  // non-null while profile() runs
    private AttentionTrace trace;  // non-null during profile()'s traced step
    private String profilePhase;
    private int openSequences;
    private boolean closed;

    private CudaModel(LlamaConfig c, CudaDevice dev, CudaStream stream, FlexqKernels k, CublasGemm blas, DeviceBuffer blasWorkspace,
                      RopeAngles rope, DeviceBuffer embedding, boolean embeddingF16, List<Layer> layers, DeviceBuffer outNorm,
                      DeviceLinear head, long weightBytes) {
        this.c = c;
        this.dev = dev;
        this.stream = stream;
        this.k = k;
        this.d = new DecoderKernels(k);
        this.blas = blas;
        this.blasWorkspace = blasWorkspace;
        this.rope = rope;
        this.embedding = embedding;
        this.embeddingF16 = embeddingF16;
        this.layers = layers;
        this.outNorm = outNorm;
        this.head = head;
        this.maxCols = Math.max(Math.max(c.dim(), c.qDim()), c.hiddenDim());
        this.needsStaging = blas != null;
        this.weightBytes = weightBytes;
        this.summary = summarize();
    }

    /** Uploads {@code file} to {@code dev}. The caller has checked the shapes and types ({@link CudaDecoderOffload}). */
    static CudaModel load(CudaDevice dev, Dispatcher dispatcher, LlamaConfig c, ModelFile file, RopeAngles rope, boolean anyF16,
                          Consumer<String> log) {
        dev.makeCurrent();
        CudaStream stream = new CudaStream(dev);
        FlexqKernels k = dev.kernels().on(stream.handle());
        if (!"false".equals(System.getProperty("flexq.cuda.pdl"))) {
            k = k.programmatic();  // -Dflexq.cuda.pdl=false: plain launches, for A/B runs
        }
        List<AutoCloseable> made = new ArrayList<>();
        made.add(stream);
        try {
            CublasGemm blas = null;
            DeviceBuffer ws = null;
            if (anyF16) {
                blas = new CublasGemm(dev);
                made.add(blas);
                ws = dev.alloc(32L << 20, "cuBLAS workspace");
                made.add(ws);
                blas.useStream(stream.handle(), ws);
            }
            DeviceUpload up = new DeviceUpload(dev, k, dispatcher, file, blas, log);
            boolean[] embF16 = new boolean[1];
            DeviceBuffer emb = up.embedding("token_embd.weight", embF16);
            made.add(emb);
            List<Layer> layers = new ArrayList<>();
            long t0 = System.nanoTime(), lastLog = t0;
            for (int l = 0; l < c.layers(); l++) {
                String p = "blk." + l + ".";
                DeviceBuffer an = up.vector(p + "attn_norm.weight", c.dim());
                made.add(an);
                Projection qkv = up.projection(new String[]{p + "attn_q.weight", p + "attn_k.weight", p + "attn_v.weight"}, c.dim(),
                        new int[]{c.qDim(), c.kvDim(), c.kvDim()});
                made.add(qkv);
                DeviceLinear wo = up.linear(p + "attn_output.weight", c.qDim(), c.dim());
                made.add(wo);
                DeviceBuffer fn = up.vector(p + "ffn_norm.weight", c.dim());
                made.add(fn);
                Projection gu = up.projection(new String[]{p + "ffn_gate.weight", p + "ffn_up.weight"}, c.dim(),
                        new int[]{c.hiddenDim(), c.hiddenDim()});
                made.add(gu);
                DeviceLinear down = up.linear(p + "ffn_down.weight", c.hiddenDim(), c.dim());
                made.add(down);
                layers.add(new Layer(an, qkv, wo, fn, gu, down));
                long now = System.nanoTime();
                if (now - lastLog > 2_000_000_000L || l == c.layers() - 1) {
                    up.progress("layer " + (l + 1) + "/" + c.layers() + String.format(Locale.ROOT, " in %.1f s", (now - t0) / 1e9));
                    lastLog = now;
                }
            }
            DeviceBuffer on = up.vector("output_norm.weight", c.dim());
            made.add(on);
            String headName = file.tensors().containsKey("output.weight") ? "output.weight" : "token_embd.weight";
            DeviceLinear head = up.head(headName, c.dim(), c.vocabSize());
            made.add(head);
            return new CudaModel(c, dev, stream, k, blas, ws, rope, emb, embF16[0], List.copyOf(layers), on, head, up.uploadedBytes());
        } catch (RuntimeException e) {
            for (int i = made.size() - 1; i >= 0; i--) {
                try {
                    made.get(i).close();
                } catch (Exception suppressed) {
                    e.addSuppressed(suppressed);
                }
            }
            throw e;
        }
    }

    private String summarize() {
        Map<String, Integer> kinds = new LinkedHashMap<>();
        for (Layer l : layers) {
            for (DeviceLinear m : List.of(l.wo(), l.down())) {
                kinds.merge(kind(m), 1, Integer::sum);
            }
            for (Projection p : List.of(l.qkv(), l.gateUp())) {
                p.parts().forEach(m -> kinds.merge(kind(m), 1, Integer::sum));
            }
        }
        StringBuilder sb = new StringBuilder();
        kinds.forEach((kind, n) -> sb.append(sb.isEmpty() ? "" : ", ").append(n).append(" x ").append(kind));
        return sb + "; head " + kind(head) + "; embedding " + (embeddingF16 ? "F16" : "F32");
    }

    private static String kind(DeviceLinear m) {
        return switch (m) {
            case Fq6Linear f -> "FQ6 W6A" + f.activationBits();
            case FloatLinear f -> f.f16() ? "F16" : "F32";
            case Q8Linear q -> "Q8_0";
        };
    }

    @Override
    public String describe() {
        return String.format(Locale.ROOT, "flexq-cuda, %s: %d layers (%s), %.2f GB of weights, %s",
                dev.describe(), c.layers(), summary, weightBytes / 1e9, useGraphs ? "CUDA graphs for steps of <= " + GRAPH_ROWS + " rows" : "no graphs");
    }

    @Override
    public synchronized DecoderOffload.Sequence newSequence(int contextLength) {
        ensureOpen();
        if (contextLength <= 0) {
            throw new IllegalArgumentException("context length must be positive, got " + contextLength);
        }
        dev.makeCurrent();
        ensureRope(contextLength);
        openSequences++;
        return new CudaSequence(this, contextLength);
    }

    synchronized void sequenceClosed() {
        openSequences--;
    }

    long cacheBytesPerPosition() {
        return 2L * c.layers() * c.kvDim() * 2;
    }

    CudaStream stream() {
        return stream;
    }

    /** Runs tokens[off, off + n) of {@code seq} at its position; returns the argmax of the last row if asked, else -1. */
    synchronized int forward(CudaSequence seq, int[] tokens, int off, int n, DecoderOffload.Want want) {
        ensureOpen();
        CudaSequence[] seqs = new CudaSequence[n];
        int[] toks = new int[n], pos = new int[n];
        for (int i = 0; i < n; i++) {
            seqs[i] = seq;
            toks[i] = tokens[off + i];
            pos[i] = seq.position() + i;
        }
        Head h = switch (want) {
            case NOTHING -> Head.NONE;
            case GREEDY, LAST_LOGITS -> Head.LAST;
            case ALL_LOGITS -> Head.ALL;
        };
        boolean argmax = want == DecoderOffload.Want.GREEDY;
        seq.ensureCache(seq.position() + n);
        int[] ids = run(seqs, toks, pos, h, argmax);
        seq.advance(n);
        if (want == DecoderOffload.Want.LAST_LOGITS || want == DecoderOffload.Want.ALL_LOGITS) {
            seq.keepLogits(downloadLogits(h == Head.ALL ? n : 1));
        }
        return argmax ? ids[0] : -1;
    }

    @Override
    public synchronized int[] decodeGreedy(DecoderOffload.Sequence[] sequences, int[] tokens) {
        ensureOpen();
        int m = sequences.length;
        CudaSequence[] seqs = new CudaSequence[m];
        int[] pos = new int[m];
        for (int i = 0; i < m; i++) {
            if (!(sequences[i] instanceof CudaSequence s) || s.model() != this) {
                throw new IllegalArgumentException("sequence " + i + " of a batched step is not a sequence of this model");
            }
            for (int j = 0; j < i; j++) {
                if (seqs[j] == s) {
                    throw new IllegalArgumentException("sequence " + i + " appears twice in one batched step");
                }
            }
            seqs[i] = s;
            pos[i] = s.position();
            s.ensureCache(pos[i] + 1);
        }
        int[] ids = run(seqs, tokens, pos, Head.ALL, true);
        for (CudaSequence s : seqs) {
            s.advance(1);
        }
        return ids;
    }

    /** One forward of rows (token, position, sequence) through the whole model. */
    private int[] run(CudaSequence[] seqs, int[] tokens, int[] pos, Head h, boolean argmax) {
        dev.makeCurrent();
        int m = tokens.length;
        int maxPos = 0;
        for (int i = 0; i < m; i++) {
            if (tokens[i] < 0 || tokens[i] >= c.vocabSize()) {
                throw new IllegalArgumentException("token id " + tokens[i] + " is outside the vocabulary [0, " + c.vocabSize() + ")");
            }
            maxPos = Math.max(maxPos, pos[i]);
        }
        boolean onePrompt = isOnePrompt(seqs, pos), separate = distinctSequences(seqs);
        int ch = d.attentionChunk(m, c.headSize(), onePrompt);
        int chunks = launchChunks(maxPos, ch);
        ensureWork(m, chunks);
        MemorySegment rows = work.rowsHost;
        for (int i = 0; i < m; i++) {
            long b = (long) i * DecoderKernels.ROW_BYTES;
            rows.set(ValueLayout.JAVA_INT_UNALIGNED, b, tokens[i]);
            rows.set(ValueLayout.JAVA_INT_UNALIGNED, b + 4, pos[i]);
            rows.set(ValueLayout.JAVA_INT_UNALIGNED, b + 8, seqs[i].allocatedPositions());
            rows.set(ValueLayout.JAVA_INT_UNALIGNED, b + 12, 0);
            rows.set(ValueLayout.JAVA_LONG_UNALIGNED, b + 16, seqs[i].cacheAddress());
        }
        stream.upload(work.rows.address(), rows, (long) m * DecoderKernels.ROW_BYTES, () -> "row table of " + m + " rows");
        if (h != Head.NONE) {
            head.prepare(k, d, h == Head.ALL ? m : 1);  // before any capture: it may allocate
        }
        if (trace != null) {  // profile(): one replayed step whose attention stamps its phases
            try (CudaStream.Graph g = stream.capture(() -> encode(m, h, argmax, chunks, ch, onePrompt, separate),
                    () -> "capturing a traced forward of " + m + " rows")) {
                g.launch(() -> "traced forward");
                stream.synchronize(() -> "a traced forward of " + m + " rows");
            }
        } else if (profile != null) {
            try (CudaStream.Graph g = stream.capture(() -> {
                profile.begin();
                encode(m, h, argmax, chunks, ch, onePrompt, separate);
            }, () -> "capturing a profiled forward of " + m + " rows")) {
                g.launch(() -> "profiled forward");
                stream.synchronize(() -> "a profiled forward of " + m + " rows");
            }
        } else if (useGraphs && m <= GRAPH_ROWS) {
            GraphKey key = new GraphKey(m, h, argmax, chunks, separate);
            CudaStream.Graph g = graphs.get(key);
            if (g == null) {
                g = stream.capture(() -> encode(m, h, argmax, chunks, ch, onePrompt, separate), () -> "capturing the decoder for " + key);
                graphs.put(key, g);
            }
            g.launch(() -> "decoder graph " + key);
        } else {
            encode(m, h, argmax, chunks, ch, onePrompt, separate);
        }
        int headRows = h == Head.ALL ? m : 1;
        int[] ids = new int[argmax ? headRows : 0];
        if (argmax) {
            stream.download(work.idsHost, work.ids.address(), 4L * headRows, () -> "argmax ids");
        }
        stream.synchronize(() -> "a forward of " + m + " rows (positions up to " + pos[m - 1] + ")");
        if (profile != null) {
            profile.collect(profilePhase);
        }
        for (int i = 0; i < ids.length; i++) {
            ids[i] = work.idsHost.get(ValueLayout.JAVA_INT_UNALIGNED, 4L * i);
        }
        return ids;
    }

    /** Whether the rows are consecutive positions of one sequence (a prompt chunk), not rows of several sequences. */
    private static boolean isOnePrompt(CudaSequence[] seqs, int[] pos) {
        for (int i = 1; i < seqs.length; i++) {
            if (seqs[i] != seqs[0] || pos[i] != pos[i - 1] + 1) {
                return false;
            }
        }
        return true;
    }

    /**
     * Whether every row belongs to a sequence of its own (a decode step), so that the only cache position this forward
     * writes for a row's sequence is the row's own.
     */
    private static boolean distinctSequences(CudaSequence[] seqs) {
        for (int i = 1; i < seqs.length; i++) {
            for (int j = 0; j < i; j++) {
                if (seqs[i] == seqs[j]) {
                    return false;
                }
            }
        }
        return true;
    }

    /**
     * Every launch of one forward of m rows whose row table is in work.rows; {@code separate}: see
     * {@link #distinctSequences}.
     */
    private void encode(int m, Head h, boolean argmax, int chunks, int ch, boolean onePrompt, boolean separate) {
        DecoderWork w = work;
        int dim = c.dim(), qDim = c.qDim(), hd = c.headSize();
        float scale = (float) (1.0 / Math.sqrt(hd));
        d.embed(w.rows.address(), m, embedding.address(), embeddingF16, dim, w.x.address());
        mark("embedding");
        Residual r = Residual.COMPLETE;
        for (int l = 0; l < layers.size(); l++) {
            Layer L = layers.get(l);
            int qb = L.qkv().primaryBits();
            boolean qn = L.qkv().primaryNatural(m);  // records in the order the first consumer reads (LayerInput)
            norm(m, r, L.attnNorm(), qb, qn, "attention norm");
            LayerInput in = new LayerInput(w, w.xn.address(), dim, m).producedAs(qb, qn);
            Projection p = L.qkv();
            Fq6Linear fusedQkv = fuseRope && p.stacked() && p.parts().getFirst() instanceof Fq6Linear f && f.ordered(m) ? f : null;
            if (skips("qkv")) {
                fusedQkv = null;
            } else if (fusedQkv != null) {  // few rows: RoPE and the cache store ride in the matmul's epilogue
                fusedQkv.runQkvRope(k, in, p.out(w.qkvOut, 0), w.rows.address(), qDim, c.kvDim(), hd, rope.pairs(), cos.address(),
                        sin.address(), l);
                mark("qkv matmul (+rope, kv store)");
            } else if (!skipGemv) {
                p.run(k, d, in, w.qkvOut);
                mark("qkv matmul");
            }
            if (fusedQkv == null && !skipOther && !skips("qkv")) {
                d.ropeStore(w.rows.address(), m, p.out(w.qkvOut, 0), p.ld(0), p.out(w.qkvOut, 1), p.ld(1), p.out(w.qkvOut, 2), p.ld(2),
                        c.heads(), c.kvHeads(), hd, rope.pairs(), cos.address(), sin.address(), l);
                mark("rope + kv store");
            }
            int ob = DecoderKernels.mergeQuantizes(hd) ? L.wo().bits() : 0;
            boolean on = L.wo().natural(m);
            if (!skipOther && !skips("attention")) {
                long act = ob == 0 ? 0 : w.act(ob).address(), sa = ob == 0 ? 0 : w.sa(ob).address();
                d.attention(w.rows.address(), m, p.out(w.qkvOut, 0), p.ld(0), l, c.heads(), c.kvHeads(), hd, scale, w.partials.address(),
                        chunks, ch, onePrompt, separate, w.attentionCounters.address(), w.att.address(), qDim, DecoderKernels.qbits(ob, on), act, sa,
                        trace == null ? 0 : trace.address(l));
                if (d.mergesInAttention(m, hd, onePrompt)) {
                    mark("attention (+merge, quantize)");
                } else {
                    mark("attention");
                    d.attentionMerge(w.rows.address(), m, w.partials.address(), chunks, ch, c.heads(), hd, w.att.address(), qDim,
                            DecoderKernels.qbits(ob, on), act, sa);
                    mark("attention merge (+quantize)");
                }
            }
            r = skips("o") ? r : addToResidual(m, L.wo(), new LayerInput(w, w.att.address(), qDim, m).producedAs(ob, on), "o matmul");
            int gb = L.gateUp().primaryBits();
            boolean gn = L.gateUp().primaryNatural(m);
            norm(m, r, L.ffnNorm(), gb, gn, "ffn norm");
            Projection gu = L.gateUp();
            if (!skipGemv && !skips("gateup")) {
                gu.run(k, d, new LayerInput(w, w.xn.address(), dim, m).producedAs(gb, gn), w.gateUpOut);
                mark("gate+up matmul");
            }
            int db = L.down().bits();
            boolean dn = L.down().natural(m);
            if (!skipOther && !skips("swiglu")) {
                d.swiglu(m, gu.out(w.gateUpOut, 0), gu.ld(0), gu.out(w.gateUpOut, 1), gu.ld(1), c.hiddenDim(), w.h.address(),
                        DecoderKernels.qbits(db, dn), db == 0 ? 0 : w.act(db).address(), db == 0 ? 0 : w.sa(db).address());
                mark("swiglu (+quantize)");
            }
            r = skips("down") ? r : addToResidual(m, L.down(), new LayerInput(w, w.h.address(), c.hiddenDim(), m).producedAs(db, dn), "down matmul");
        }
        norm(m, r, outNorm, 0, false, "final norm");
        if (h == Head.NONE) {
            return;
        }
        int rows = h == Head.ALL ? m : 1;
        long x = w.xn.address() + (h == Head.ALL ? 0 : 4L * (m - 1) * dim);
        if (!skipGemv && !skips("head")) {
            head.run(k, d, new LayerInput(w, x, dim, rows), w.logits.address());
            mark("output head");
        }
        if (argmax) {
            d.argmax(w.logits.address(), rows, c.vocabSize(), w.argmaxParts.address(), w.ids.address());
            mark("argmax");
        }
    }

    /**
     * Where the residual stream x stands before a norm: the last matmul's output still waiting in proj (the norm adds
     * it), added already with its sums of squares per tile in normParts (a residual matmul), or complete without
     * them (after the embedding).
     */
    private enum Residual { ADD_PROJ, PARTS, COMPLETE }

    /**
     * xn = RMSNorm(x) * weight, quantized to {@code bits} (0: none; natural-order records if {@code natural}) for the next
     * matmul, from wherever x stands.
     */
    private void norm(int m, Residual r, DeviceBuffer weight, int bits, boolean natural, String stage) {
        if (skipOther || skips("norm")) {
            return;
        }
        DecoderWork w = work;
        long act = bits == 0 ? 0 : w.act(bits).address(), sa = bits == 0 ? 0 : w.sa(bits).address();
        int qbits = DecoderKernels.qbits(bits, natural);
        if (r == Residual.PARTS) {
            d.rmsNormParts(m, w.x.address(), c.dim(), w.normParts.address(), w.normTiles, weight.address(), c.rmsEps(), w.xn.address(), qbits,
                    act, sa);
            mark(stage + " (quantize)");
        } else {
            d.addRmsNorm(m, w.x.address(), r == Residual.ADD_PROJ ? w.proj.address() : 0, c.dim(), weight.address(), c.rmsEps(),
                    w.xn.address(), qbits, act, sa);
            mark(stage + " (+add, quantize)");
        }
    }

    /**
     * The matmul whose output is added to the residual stream (o, down): for few rows an FQ6 matrix adds it in its
     * epilogue and leaves the sums of squares for the norm after it; otherwise its output goes to proj for that norm to add.
     */
    private Residual addToResidual(int m, DeviceLinear lin, LayerInput in, String stage) {
        if (fuseNorm && lin instanceof Fq6Linear f && f.ordered(m)) {
            f.runResidual(k, in, work.x.address(), work.normParts.address());
            mark(stage + " (+residual)");
            return Residual.PARTS;
        }
        if (!skipGemv) {
            lin.run(k, d, in, work.proj.address());
            mark(stage);
        }
        return Residual.ADD_PROJ;
    }

    private void mark(String stage) {
        if (profile != null) {
            profile.mark(stage);
        }
    }

    /**
     * Profiles {@code chunks} prefill forwards of {@code chunkRows} random tokens and then {@code steps} greedy decode
     * steps of one new sequence, stage by stage ({@link DecoderProfile}); then times the same number of decode steps
     * replayed from CUDA graphs, wall clock from Java, for comparison. Returns a markdown report. Benchmarks only.
     */
    synchronized String profile(int chunks, int chunkRows, int steps) {
        ensureOpen();
        java.util.Random rnd = new java.util.Random(7);
        int[] prompt = rnd.ints((long) chunks * chunkRows, 0, c.vocabSize()).toArray();
        StringBuilder out = new StringBuilder();
        try (DecoderProfile pf = new DecoderProfile(dev, stream.handle())) {
            CudaSequence seq = (CudaSequence) newSequence(prompt.length + 2 * steps + 2);
            try {
                profile = pf;
                profilePhase = "prefill, " + chunkRows + " rows";
                for (int i = 0; i < chunks; i++) {
                    forward(seq, prompt, i * chunkRows, chunkRows, DecoderOffload.Want.GREEDY);
                }
                profilePhase = "decode, 1 row";
                int tok = prompt[prompt.length - 1];
                for (int i = 0; i < steps; i++) {
                    tok = forward(seq, new int[] {tok}, 0, 1, DecoderOffload.Want.GREEDY);
                }
                profile = null;
                forward(seq, new int[] {tok}, 0, 1, DecoderOffload.Want.GREEDY);  // captures the step's graph
                long t0 = System.nanoTime();
                for (int i = 0; i < steps; i++) {
                    tok = forward(seq, new int[] {tok}, 0, 1, DecoderOffload.Want.GREEDY);
                }
                double graphStep = (System.nanoTime() - t0) / 1e3 / steps;
                out.append(pf.table());
                out.append(String.format(Locale.ROOT, "%nDecode step replayed from a CUDA graph (wall clock from Java, id copy included): %.1f us%n",
                        graphStep));
                out.append(tracedStep(seq, tok));
            } finally {
                profile = null;
                seq.close();
            }
        }
        return out.toString();
    }

    private float[][] downloadLogits(int rows) {
        int vocab = c.vocabSize();
        float[][] out = new float[rows][vocab];
        for (int i = 0; i < rows; i++) {
            work.logits.download(MemorySegment.ofArray(out[i]), 4L * i * vocab);
        }
        return out;
    }

    /**
     * Attention chunks of ch positions a forward whose last position is maxPos launches: those its positions need,
     * rounded up to a power of two (few graph shapes).
     */
    private static int launchChunks(int maxPos, int ch) {
        int needed = maxPos / ch + 1;
        return needed == 1 ? 1 : Integer.highestOneBit(needed - 1) * 2;
    }

    /**
     * One more decode step of seq (next token tok), captured and replayed with the attention kernels
     * that stamp their phases ({@link AttentionTrace}); its table, or a line saying why there is none.
     */
    private String tracedStep(CudaSequence seq, int tok) {
        int hd = c.headSize();
        if (!d.mergesInAttention(1, hd, false)) {
            return String.format(Locale.ROOT, "%nNo attention trace: head size %d has no traced decode kernel.%n", hd);
        }
        int ch = d.attentionChunk(1, hd, false), chunks = launchChunks(seq.position(), ch);  // as run() launches this step
        try (AttentionTrace t = new AttentionTrace(dev, layers.size(), c.kvHeads(), chunks)) {
            trace = t;
            forward(seq, new int[] {tok}, 0, 1, DecoderOffload.Want.GREEDY);
            return t.table();
        } finally {
            trace = null;
        }
    }

    /** Buffers for m rows and the given attention chunks; a new set (and no graphs) when the current one is too small. */
    private void ensureWork(int m, int chunks) {
        if (work != null && work.capacity >= m && work.partialSlots >= (long) m * chunks) {
            return;
        }
        int capacity = Math.max(m, work == null ? 1 : work.capacity);
        if (capacity <= GRAPH_ROWS) {
            capacity = Math.max(capacity, Math.min(GRAPH_ROWS, Integer.highestOneBit(capacity - 1) * 2));
        }
        long slots = Math.max((long) m * chunks, work == null ? 1 : work.partialSlots);
        dropGraphs();
        if (work != null) {
            work.close();
            work = null;
        }
        Projection qkv = layers.getFirst().qkv(), gu = layers.getFirst().gateUp();
        work = new DecoderWork(dev, stream, c, capacity, slots, qkv.partWidths(), gu.partWidths(), maxCols, needsStaging);
    }

    /** cos/sin tables covering positions [0, positions), as the host computes them. */
    private void ensureRope(int positions) {
        if (positions <= ropePositions) {
            return;
        }
        int pairs = rope.pairs();
        long n = (long) positions * pairs;
        if (n > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException("a RoPE table of " + positions + " positions x " + pairs + " pairs is too large");
        }
        float[] cs = new float[(int) n], sn = new float[(int) n];
        for (int p = 0; p < positions; p++) {
            rope.angles(p, cs, sn, p * pairs);
        }
        dropGraphs();
        if (cos != null) {
            cos.close();
            sin.close();
        }
        cos = dev.alloc(4 * n, "RoPE cos table");
        sin = dev.alloc(4 * n, "RoPE sin table");
        cos.upload(MemorySegment.ofArray(cs), 0);
        sin.upload(MemorySegment.ofArray(sn), 0);
        ropePositions = positions;
    }

    private void dropGraphs() {
        graphs.values().forEach(CudaStream.Graph::close);
        graphs.clear();
    }

    int graphCount() {
        return graphs.size();
    }

    private void ensureOpen() {
        if (closed) {
            throw new IllegalStateException("the CUDA model is closed");
        }
    }

    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        dev.makeCurrent();
        dropGraphs();
        if (work != null) {
            work.close();
        }
        for (Layer l : layers) {
            l.attnNorm().close();
            l.qkv().close();
            l.wo().close();
            l.ffnNorm().close();
            l.gateUp().close();
            l.down().close();
        }
        embedding.close();
        outNorm.close();
        head.close();
        if (cos != null) {
            cos.close();
            sin.close();
        }
        if (blas != null) {
            blas.close();
            blasWorkspace.close();
        }
        stream.close();
    }
}
