package io.flexq.cuda;

import java.util.function.Supplier;

/**
 * Typed launches of the decoder kernels of decoder.cu (addresses are device pointers; layouts are documented there),
 * on the stream of the {@link FlexqKernels} view they are made with. Sizes: M rows, dim / n widths, G = ceil(K / 128)
 * groups, ldsa = {@link FlexqKernels#ldsa}(M).
 */
final class DecoderKernels {

    /** Most positions per attention chunk (ATT_CH in decoder.cu). */
    static final int ATTENTION_CHUNK = 128;
    /**
     * Decode attention shape for forwards of few rows (decode steps): positions per chunk and warps per block. One row
     * at head size 128 (a batch-1 step): chunks of 64 positions in blocks of 16 warps, each warp scoring 4 positions
     * and the merging block splitting each head in 4 slices (decode 339-350 vs 321-329 tok/s on the 8B shape; 4 warps
     * with chunks of 32, 48 or 64, and 8 or 16 warps with chunks of 32, were slower: bench/results/e2e-h100.md rounds
     * 8 and 9). More rows (batched steps): chunks of 32 in blocks of 4 warps (16 warps lost 3% at 8 rows and 13% at 32).
     * {@code flexq.cuda.decodeChunk} (1..128) and {@code flexq.cuda.decodeWarps} (4, 8 or 16; head size 128) set
     * others for every decode step (read when a model loads; A/B runs).
     */
    private final Integer decodeChunk = option("flexq.cuda.decodeChunk", ch -> ch >= 1 && ch <= ATTENTION_CHUNK,
            "positions per decode attention chunk must be 1.." + ATTENTION_CHUNK);
    private final Integer decodeWarps = option("flexq.cuda.decodeWarps", w -> w == 4 || w == 8 || w == 16,
            "warps per decode attention block must be 4, 8 or 16");

    private static Integer option(String key, java.util.function.IntPredicate valid, String rule) {
        Integer v = Integer.getInteger(key);
        if (v != null && !valid.test(v)) {
            throw new IllegalArgumentException("-D" + key + "=" + v + ": " + rule);
        }
        return v;
    }

    /** Whether a decode step of m rows at head size hd takes the one-row attention shape (16 warps, chunks of 64). */
    private static boolean oneRowShape(int m, int hd) {
        return m == 1 && hd == 128;
    }

    /** Warps per block of the decode attention kernel at head size 128 for m rows. */
    private int decodeWarps(int m, int hd) {
        return decodeWarps != null ? decodeWarps : oneRowShape(m, hd) ? 16 : 4;
    }

    /** {@code flexq.cuda.attention=generic} (read when a model loads) runs the one-position-per-thread kernel at every head size (A/B runs). */
    private final boolean genericAttention = "generic".equals(System.getProperty("flexq.cuda.attention"));
    /** Query heads per key/value head the attention kernel takes (ATT_MAXG), and the largest head size. */
    static final int MAX_GROUP = 8, MAX_HEAD_SIZE = 256;
    /**
     * Or-ed into a kernel's qbits (decoder.cu QBITS_NATURAL): the records are written in natural k order, for a
     * wgmma consumer ({@link LayerInput}).
     */
    static final int QBITS_NATURAL = 0x100;

    /** qbits for a producer kernel: {@code bits} (0, 6 or 8), natural order if {@code natural} and bits is not 0. */
    static int qbits(int bits, boolean natural) {
        return bits != 0 && natural ? bits | QBITS_NATURAL : bits;
    }

    /** Bits of the decode attention kernels' opts (decoder.cu). */
    private static final int ATT_EARLY_VALUES = 1, ATT_PRELOAD = 2, ATT_FIT_MERGE = 4;
    /** Bytes of one RowInfo: token, pos, capacity, pad (ints) and the cache address (long). */
    static final int ROW_BYTES = 24;

    private final FlexqKernels k;

    DecoderKernels(FlexqKernels onStream) {
        this.k = onStream;
    }

    FlexqKernels flexq() {
        return k;
    }

    /** A block size for n independent items: one thread each, in whole warps, between 128 and max. */
    static int threadsFor(int n, int max) {
        return Math.max(128, Math.min(max, (n + 31) / 32 * 32));
    }

    void embed(long rows, int m, long embedding, boolean f16, int dim, long x) {
        k.launch("dec_embed", 0, m, 1, 1, 256, () -> "dec_embed M=" + m + " dim=" + dim, rows, embedding, f16 ? 1 : 0, dim, x);
    }

    /** x += delta (delta 0: none); out = RMSNorm(x) * w; quantized to act/sa when qbits is 6 or 8. */
    void addRmsNorm(int m, long x, long delta, int dim, long w, float eps, long out, int qbits, long act, long sa) {
        k.launch("dec_add_rmsnorm", dim * 4, m, 1, 1, threadsFor(dim / 4, 1024), () -> "dec_add_rmsnorm M=" + m + " dim=" + dim + " A" + qbits,
                x, delta, dim, w, eps, out, qbits, act, sa, FlexqKernels.ldsa(m));
    }

    /**
     * out = RMSNorm(x) * w (out 0: not stored), quantized to act/sa when qbits is 6 or 8, with the sum of squares taken
     * from the per-tile sums a residual matmul left in parts ({@code tiles} per row) instead of from x.
     */
    void rmsNormParts(int m, long x, int dim, long parts, int tiles, long w, float eps, long out, int qbits, long act, long sa) {
        k.launch("dec_rmsnorm_parts", 0, m, FlexqKernels.ceilDiv(FlexqKernels.groups(dim), 8), 1, 256,
                () -> "dec_rmsnorm_parts M=" + m + " dim=" + dim + " A" + qbits, x, dim, parts, tiles, w, eps, out, qbits, act, sa,
                FlexqKernels.ldsa(m));
    }

    void ropeStore(long rows, int m, long q, int ldq, long kk, int ldk, long v, int ldv, int heads, int kvHeads, int hd, int pairs,
                   long cos, long sin, int layer) {
        k.launch("dec_rope_store", 0, m, 1, 1, threadsFor(heads * pairs, 512), () -> "dec_rope_store M=" + m + " layer " + layer,
                rows, q, ldq, kk, ldk, v, ldv, heads, kvHeads, hd, pairs, cos, sin, layer);
    }

    /** Positions per chunk of the prompt kernel (ATT_TCH), and its rows per block (ATT_RT). */
    static final int TILE_ATTENTION_CHUNK = 64, TILE_ROWS = 8;

    /**
     * The attention chunk length for a forward of m rows: short for decode steps, the prompt kernel's chunk for a
     * prompt of one sequence at head size 128, else 128 (fewer partials).
     */
    int attentionChunk(int m, int hd, boolean onePrompt) {
        if (m <= CudaModel.GRAPH_ROWS) {
            return decodeChunk != null ? decodeChunk : oneRowShape(m, hd) ? 64 : 32;
        }
        return tiled(m, hd, onePrompt) ? TILE_ATTENTION_CHUNK : ATTENTION_CHUNK;
    }

    private boolean tiled(int m, int hd, boolean onePrompt) {
        return m > CudaModel.GRAPH_ROWS && onePrompt && hd == 128 && !genericAttention;
    }

    /**
     * {@code flexq.cuda.fuseMerge=false} (read when a model loads) keeps the separate merge launch after decode-step
     * attention (A/B runs).
     */
    private final boolean fuseMerge = !"false".equals(System.getProperty("flexq.cuda.fuseMerge"));
    /** {@code flexq.cuda.earlyValues=false} (read when a model loads): decode-step attention loads values after the softmax (A/B runs). */
    private final boolean earlyValues = !"false".equals(System.getProperty("flexq.cuda.earlyValues"));
    /**
     * {@code flexq.cuda.preloadCache=false} (read when a model loads): decode-step attention loads the cache after the
     * wait for the qkv matmul rather than before it (A/B runs; see ATT_PRELOAD in decoder.cu).
     */
    private final boolean preloadCache = !"false".equals(System.getProperty("flexq.cuda.preloadCache"));
    /**
     * {@code flexq.cuda.fitMerge=false} (read when a model loads): the in-kernel merge unrolls over 32 chunks whatever
     * the position (A/B runs; see merge_fit in decoder.cu; the output is the same).
     */
    private final boolean fitMerge = !"false".equals(System.getProperty("flexq.cuda.fitMerge"));

    /**
     * Whether the attention kernel of a forward of m rows merges its own chunks (the last block of each key/value head
     * does, see attention_warps in decoder.cu), so that no {@link #attentionMerge} follows: decode steps at head sizes
     * 64 and 128.
     */
    boolean mergesInAttention(int m, int hd, boolean onePrompt) {
        return fuseMerge && !genericAttention && (hd == 128 || hd == 64) && !tiled(m, hd, onePrompt) && m <= CudaModel.GRAPH_ROWS;
    }

    /**
     * Attention over the row's cache into chunk partials; where {@link #mergesInAttention} holds, also the merge into
     * out (and act / sa when qbits is 6 or 8, as {@link #attentionMerge}), counting finished chunks in
     * {@code counters} (m * kvHeads ints, zero between launches). {@code separate}: every row is a sequence of its own,
     * so the cache positions other than each row's own were written before this forward and may be read before the
     * qkv matmul ends. {@code trace}: 0, or where the launch stores its phase times ({@link AttentionTrace#address}).
     */
    void attention(long rows, int m, long q, int ldq, int layer, int heads, int kvHeads, int hd, float scale, long partials, int chunks,
                   int ch, boolean onePrompt, boolean separate, long counters, long out, int ldo, int qbits, long act, long sa,
                   long trace) {
        Supplier<String> what = () -> "attention M=" + m + " layer " + layer + " chunks=" + chunks + "x" + ch;
        if (tiled(m, hd, onePrompt)) {
            int g = heads / kvHeads;
            int smem = TILE_ATTENTION_CHUNK * (hd / 2 + 1) * 4 + TILE_ATTENTION_CHUNK * hd * 2 + TILE_ROWS * g * (hd + TILE_ATTENTION_CHUNK) * 4;
            k.launch("dec_attention_tile_hd128", smem, FlexqKernels.ceilDiv(m, TILE_ROWS), kvHeads, chunks, TILE_ROWS * 32, what,
                    rows, m, q, ldq, layer, heads, kvHeads, scale, partials, chunks);
            return;
        }
        if (genericAttention || (hd != 128 && hd != 64)) {
            k.launch("dec_attention", 0, m, kvHeads, chunks, 128, what, rows, q, ldq, layer, heads, kvHeads, hd, scale, partials, chunks, ch);
            return;
        }
        Object[] args = {rows, q, ldq, layer, heads, kvHeads, hd, scale, partials, chunks, ch,
                mergesInAttention(m, hd, onePrompt) ? counters : 0L, out, ldo, qbits, act, sa, FlexqKernels.ldsa(m),
                (earlyValues ? ATT_EARLY_VALUES : 0) | (earlyValues && preloadCache && separate ? ATT_PRELOAD : 0)
                        | (fitMerge ? ATT_FIT_MERGE : 0)};
        if (trace != 0) {  // profile runs: the entry points that stamp their phases (AttentionTrace)
            Object[] traced = java.util.Arrays.copyOf(args, args.length + 1);
            traced[args.length] = trace;
            if (hd == 128) {
                switch (decodeWarps(m, hd)) {
                    case 8 -> k.launch("dec_attention_hd128_w8_trace", 0, m, kvHeads, chunks, 256, what, traced);
                    case 16 -> k.launch("dec_attention_hd128_w16_trace", 0, m, kvHeads, chunks, 512, what, traced);
                    default -> k.launch("dec_attention_hd128_trace", 0, m, kvHeads, chunks, 128, what, traced);
                }
            } else {
                k.launch("dec_attention_hd64_trace", 0, m, kvHeads, chunks, 128, what, traced);
            }
        } else if (hd == 128) {
            switch (decodeWarps(m, hd)) {
                case 8 -> k.launch("dec_attention_hd128_w8", 0, m, kvHeads, chunks, 256, what, args);
                case 16 -> k.launch("dec_attention_hd128_w16", 0, m, kvHeads, chunks, 512, what, args);
                default -> k.launch("dec_attention_hd128", 0, m, kvHeads, chunks, 128, what, args);
            }
        } else {
            k.launch("dec_attention_hd64", 0, m, kvHeads, chunks, 128, what, args);
        }
    }

    /** Merges the attention chunks into out; with hd == 128 and qbits 6 or 8 also quantizes out (one group per head). */
    void attentionMerge(long rows, int m, long partials, int chunks, int ch, int heads, int hd, long out, int ldo, int qbits, long act, long sa) {
        k.launch("dec_attention_merge", 0, m, FlexqKernels.ceilDiv(heads, 4), 1, 128, () -> "dec_attention_merge M=" + m + " chunks=" + chunks,
                rows, partials, chunks, ch, heads, hd, out, ldo, qbits, act, sa, FlexqKernels.ldsa(m));
    }

    /** Whether {@link #attentionMerge} can quantize its output for the next matmul (one head = one 128-group). */
    static boolean mergeQuantizes(int headSize) {
        return headSize == 128;
    }

    void swiglu(int m, long gate, int ldg, long up, int ldu, int n, long out, int qbits, long act, long sa) {
        long warps = (long) m * FlexqKernels.groups(n);
        k.launch("dec_swiglu", 0, FlexqKernels.ceilDiv(warps * 32, 256), 1, 1, 256, () -> "dec_swiglu M=" + m + " n=" + n,
                gate, ldg, up, ldu, m, n, out, qbits, act, sa, FlexqKernels.ldsa(m));
    }

    /** Partials per row of {@link #argmax} (ARGMAX_PARTS in decoder.cu): {@code parts} holds m * ARGMAX_PARTS * 8 bytes. */
    static final int ARGMAX_PARTS = 64;

    /** out[t] = argmax of logits row t, through per-slice partials in {@code parts} (two launches). */
    void argmax(long logits, int m, int n, long parts, long out) {
        k.launch("dec_argmax_parts", 0, m, ARGMAX_PARTS, 1, 256, () -> "dec_argmax_parts M=" + m + " N=" + n, logits, n, parts);
        k.launch("dec_argmax_final", 0, m, 1, 1, ARGMAX_PARTS, () -> "dec_argmax_final M=" + m, parts, out);
    }

    void floatGemv(long w, boolean f16, int rows, int cols, long x, int ldx, int m, long y) {
        k.launch("dec_float_gemv", 0, FlexqKernels.ceilDiv(rows, 8), 1, FlexqKernels.ceilDiv(m, 8), 256,
                () -> "dec_float_gemv M=" + m + " N=" + rows + " K=" + cols, w, f16 ? 1 : 0, rows, cols, x, ldx, m, y);
    }

    void q8Gemv(long codes, long scales, int rows, int cols, long x, int ldx, int m, long y) {
        k.launch("dec_q8_gemv", 0, FlexqKernels.ceilDiv(rows, 8), 1, FlexqKernels.ceilDiv(m, 8), 256,
                () -> "dec_q8_gemv M=" + m + " N=" + rows + " K=" + cols, codes, scales, rows, cols, x, ldx, m, y);
    }

    /** {@code flexq.cuda.q8M1=false} (read when a model loads): one-row Q8_0 products take the 8-token kernel (A/B runs). */
    private final boolean q8M1 = !"false".equals(System.getProperty("flexq.cuda.q8M1"));

    /** {@link #q8Gemv} on codes and scales in {@link Q8Linear}'s lane order (cols a multiple of 512). */
    void q8GemvLanes(long codes, long scales, int rows, int cols, long x, int ldx, int m, long y) {
        Supplier<String> what = () -> "dec_q8_gemv_lanes M=" + m + " N=" + rows + " K=" + cols;
        if (m == 1 && q8M1) {
            k.launch("dec_q8_gemv_lanes_m1", 0, FlexqKernels.ceilDiv(rows, 8), 1, 1, 256, what, codes, scales, rows, cols, x, ldx, m, y);
        } else {
            k.launch("dec_q8_gemv_lanes", 0, FlexqKernels.ceilDiv(rows, 8), 1, FlexqKernels.ceilDiv(m, 8), 256, what, codes, scales, rows,
                    cols, x, ldx, m, y);
        }
    }

    /** The fp16 copy of a Q8_0 matrix, row-major; {@code lanes}: codes and scales in {@link Q8Linear}'s lane order. */
    void q8ToF16(long codes, long scales, int rows, int cols, boolean lanes, long out) {
        long n = (long) rows * cols;
        k.launch("dec_q8_to_f16", 0, FlexqKernels.ceilDiv(n, 256), 1, 1, 256, () -> "dec_q8_to_f16 N=" + rows + " K=" + cols,
                codes, scales, n, lanes ? 1 : 0, out);
    }

    void toF16(long x, long n, long out) {
        k.launch("dec_to_f16", 0, FlexqKernels.ceilDiv(n, 256), 1, 1, 256, () -> "dec_to_f16 n=" + n, x, n, out);
    }
}
