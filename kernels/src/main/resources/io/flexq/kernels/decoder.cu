// FlexQ-J device-resident decoder: the non-matmul kernels of a Llama forward (embedding, RMSNorm fused with the
// residual add and the A6/A8 activation quantizer, RoPE + KV-cache store, split-length attention and its merge,
// SwiGLU fused with the quantizer, argmax) and a GEMV for float weights. Compiled in one program after flexq.cu
// (it uses quantize_warp, h2f, the record layouts and types from there); every entry point is extern "C".
//
// Rows. A launch works on M rows; row t is described by a RowInfo: the token id, its position, and its sequence's
// KV cache (capacity positions). Rows of one prompt chunk share a cache at consecutive positions; rows of a batched
// decode step belong to different sequences. Kernels that depend on positions read them here, so a captured CUDA
// graph replays with new positions after one small host-to-device copy of the row table.
//
// KV cache of one sequence (fp16): half element ((layer * 2 + kv) * capacity + pos) * kvDim + head * hd + d, kv = 0
// for keys (rotated), 1 for values.
//
// Activations are fp32 rows x[t * ld + i]. Quantized forms use flexq.cu's int8 record layout and scales
// sa[g * ldsa + t]; rounding as quantize_warp (the exactness contract's rule).
//
// Float rounding follows the host path (LlamaSession, VectorMath, Rope, Attention) operation by operation where it
// is cheap to do so (no FMA contraction in RMSNorm, RoPE, SwiGLU; the RMS sum in double). Sums over many terms
// (dot products, softmax) take another order than the host; their difference is rounding only.

struct RowInfo {
    int token;
    int pos;
    int cap;
    int pad;
    unsigned long long cache;  // device address of the sequence's KV cache (u16 halves)
};

__device__ __forceinline__ u16 f2h(float f) {
    u16 h;
    asm("cvt.rn.f16.f32 %0, %1;" : "=h"(h) : "f"(f));
    return h;
}

// One warp's (token, group) record in the int8 form for A6 (qbits 6) or A8 (otherwise): flexq.cu's quantize_warp with
// the code range the bits select, for the decoder kernels that emit the next matmul's activations.
// qbits | QBITS_NATURAL writes the natural-order record (flexq.cu), the input of hopper.cu's wgmma kernels.
#define QBITS_NATURAL 0x100
__device__ __forceinline__ void quantize_record(int qbits, const float (&v)[4], int lane, u32 *__restrict__ rec, float *__restrict__ sa) {
    const bool natural = (qbits & QBITS_NATURAL) != 0;
    if ((qbits & 0xFF) == 6) quantize_warp<31>(v, lane, rec, nullptr, sa, natural);
    else quantize_warp<127>(v, lane, rec, nullptr, sa, natural);
}

// Block-wide sum of doubles (blockDim.x a multiple of 32, at most 1024); every thread gets the total.
__device__ __forceinline__ double block_sum(double v, double *scratch) {
#pragma unroll
    for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(FULL_MASK, v, o);
    const int warp = threadIdx.x >> 5, lane = threadIdx.x & 31, warps = blockDim.x >> 5;
    __syncthreads();
    if (lane == 0) scratch[warp] = v;
    __syncthreads();
    double total = 0;
    for (int w = 0; w < warps; ++w) total += scratch[w];  // fixed order: every block and run sums alike
    return total;
}

// --------------------------------------------------------------------------------------------- embedding
// x[t][i] = row token_t of the embedding (fp32 or fp16 storage). Grid: M blocks.
extern "C" __global__ void __launch_bounds__(256) dec_embed(const RowInfo *__restrict__ rows, const void *__restrict__ emb,
                                                           int f16, int dim, float *__restrict__ x) {
    pdl_launch();
    pdl_wait();
    const int t = blockIdx.x;
    const long long base = (long long)rows[t].token * dim;
    for (int i = threadIdx.x; i < dim; i += blockDim.x) {
        x[(long long)t * dim + i] = f16 ? h2f(((const u16 *)emb)[base + i]) : ((const float *)emb)[base + i];
    }
}

// ------------------------------------------------------------------------------------- add + RMSNorm + quant
// Row t: if delta != null, x += delta (written back; the residual add of the previous block's last matmul).
// Then n = (x * inv) * w with inv = (float)(1 / sqrt(sum(x^2) / dim + eps)) (sum in double), stored to out (fp32,
// row stride dim) and, if qbits is 6 or 8, quantized per 128-group into records act / scales sa.
// Grid: M blocks of up to 1024 threads (the host gives a row of 4096 a thread per 4 values and a warp per group);
// dynamic shared memory dim floats.
extern "C" __global__ void __launch_bounds__(1024) dec_add_rmsnorm(float *__restrict__ x, const float *__restrict__ delta, int dim,
        const float *__restrict__ w, float eps, float *__restrict__ out, int qbits, u32 *__restrict__ act,
        float *__restrict__ sa, int ldsa) {
    pdl_launch();
    pdl_wait();
    extern __shared__ float sn[];
    __shared__ double scratch[32];
    const int t = blockIdx.x;
    float *xr = x + (long long)t * dim;
    double ss = 0;
#pragma unroll 4
    for (int i = threadIdx.x; i < dim; i += blockDim.x) {
        float v = xr[i];
        if (delta != nullptr) {
            v = __fadd_rn(v, delta[(long long)t * dim + i]);
            xr[i] = v;
        }
        sn[i] = v;
        ss += (double)v * (double)v;
    }
    ss = block_sum(ss, scratch);
    const float inv = (float)(1.0 / sqrt(ss / dim + (double)eps));
    for (int i = threadIdx.x; i < dim; i += blockDim.x) {
        const float n = __fmul_rn(__fmul_rn(sn[i], inv), w[i]);
        sn[i] = n;
        out[(long long)t * dim + i] = n;
    }
    if (qbits == 0) return;
    __syncthreads();
    const int G = (dim + 127) / 128, lane = threadIdx.x & 31;
    for (int g = threadIdx.x >> 5; g < G; g += blockDim.x >> 5) {
        float v[4];
#pragma unroll
        for (int i = 0; i < 4; ++i) {
            const int k = g * 128 + i * 32 + lane;
            v[i] = k < dim ? sn[k] : 0.0f;
        }
        u32 *rec = act + ((long long)t * G + g) * 32;
        quantize_record(qbits, v, lane, rec, sa + (long long)g * ldsa + t);
    }
}

// Element `odd` of the rotated pair (x0, x1) by the angle with cosine c and sine s, rounded as the host's Rope:
// x0 c - x1 s (even), x0 s + x1 c (odd), each product and the sum rounded in fp32 (no FMA).
__device__ __forceinline__ float rope_rotate(float x0, float x1, float c, float s, bool odd) {
    return odd ? __fadd_rn(__fmul_rn(x0, s), __fmul_rn(x1, c)) : __fsub_rn(__fmul_rn(x0, c), __fmul_rn(x1, s));
}

// ------------------------------------------------------------------------------------ RoPE + KV-cache store
// Rotates the first 2*pairs dims of every q head (in place, fp32) and k head at row t's position, with the host's
// cos/sin table (cosT[pos * pairs + i]), then stores k and v as fp16 into the row's cache at its position.
// q, k, v: row t at q + t*ldq etc. Grid: M blocks of up to 512 threads.
extern "C" __global__ void __launch_bounds__(512) dec_rope_store(const RowInfo *__restrict__ rows, float *__restrict__ q, int ldq,
        const float *__restrict__ k, int ldk, const float *__restrict__ v, int ldv, int heads, int kvHeads, int hd, int pairs,
        const float *__restrict__ cosT, const float *__restrict__ sinT, int layer) {
    pdl_launch();
    pdl_wait();
    const int t = blockIdx.x;
    const RowInfo r = rows[t];
    const float *cs = cosT + (long long)r.pos * pairs, *sn = sinT + (long long)r.pos * pairs;
    float *qr = q + (long long)t * ldq;
    for (int e = threadIdx.x; e < heads * pairs; e += blockDim.x) {
        const int h = e / pairs, i = e % pairs;
        float *p = qr + h * hd + 2 * i;
        const float x0 = p[0], x1 = p[1], c = cs[i], s = sn[i];
        p[0] = rope_rotate(x0, x1, c, s, false);
        p[1] = rope_rotate(x0, x1, c, s, true);
    }
    const int kvDim = kvHeads * hd;
    u16 *kc = (u16 *)r.cache + ((long long)(layer * 2) * r.cap + r.pos) * kvDim;
    u16 *vc = (u16 *)r.cache + ((long long)(layer * 2 + 1) * r.cap + r.pos) * kvDim;
    const float *kr = k + (long long)t * ldk, *vr = v + (long long)t * ldv;
    for (int e = threadIdx.x; e < kvDim; e += blockDim.x) {
        const int i = (e % hd) >> 1;
        float val = kr[e];
        if (i < pairs) {
            const float x0 = kr[e & ~1], x1 = kr[e | 1], c = cs[i], s = sn[i];
            val = rope_rotate(x0, x1, c, s, e & 1);
        }
        kc[e] = f2h(val);
        vc[e] = f2h(vr[e]);
    }
}

// ------------------------------------------------------------------------------------------------ attention
// Split over the cache length (flash-decoding): block (t, kvh, c) takes positions [c*ch, c*ch + ch) of row t's cache,
// up to its own position (causal), for the G = heads / kvHeads query heads that share key/value head kvh, and
// writes a partial: for each of those heads, m = max score, s = sum exp(score - m), acc[d] = sum exp(score - m) v[d],
// at part[((t * heads + h) * chunks + c) * (hd + 2)] = {m, s, acc[0..hd)}. Scores are q . k * scale with fp16 k.
// No T x T matrix exists anywhere: a block keeps ch scores per head in shared memory. The chunk size ch (<= 128) is
// the host's choice per forward: small for decode steps (more blocks over a short cache), 128 for prompts (fewer
// partials). Two kernels: dec_attention_hd64 / _hd128 (head sizes 64 and 128: every warp reads whole 128- or
// 256-byte cache rows, one position per warp at a time, so loads are coalesced and positions run in parallel) and
// dec_attention for any head size <= 256 (one position per thread). Grid: (M, kvHeads, chunks), 128 threads, G <= 8.
#define ATT_CH 128
#define ATT_MAXG 8
extern "C" __global__ void __launch_bounds__(128) dec_attention(const RowInfo *__restrict__ rows, const float *__restrict__ q, int ldq,
        int layer, int heads, int kvHeads, int hd, float scale, float *__restrict__ part, int chunks, int ch) {
    pdl_launch();
    pdl_wait();
    __shared__ float qs[ATT_MAXG * 256];
    __shared__ float sc[ATT_MAXG][ATT_CH];
    __shared__ float red[ATT_MAXG][4];
    const int t = blockIdx.x, kvh = blockIdx.y, c = blockIdx.z;
    const RowInfo r = rows[t];
    const int G = heads / kvHeads, kvDim = kvHeads * hd;
    const int p0 = c * ch;
    const int n = min(ch, r.pos + 1 - p0);  // valid positions in this chunk (<= 0: none)
    const int tid = threadIdx.x, lane = tid & 31, warp = tid >> 5;
    float *pout = part + ((long long)t * heads + kvh * G) * chunks * (hd + 2) + (long long)c * (hd + 2);
    if (n <= 0) {
        return;  // the merge reads only chunks up to the row's position
    }
    for (int e = tid; e < G * hd; e += blockDim.x) qs[e] = q[(long long)t * ldq + (kvh * G) * hd + e];
    __syncthreads();
    const u16 *kc = (const u16 *)r.cache + ((long long)(layer * 2) * r.cap + p0) * kvDim + kvh * hd;
    const u16 *vc = (const u16 *)r.cache + ((long long)(layer * 2 + 1) * r.cap + p0) * kvDim + kvh * hd;
    // scores
    float s[ATT_MAXG];
#pragma unroll
    for (int g = 0; g < ATT_MAXG; ++g) s[g] = -INFINITY;
    if (tid < n) {
        float acc[ATT_MAXG];
#pragma unroll
        for (int g = 0; g < ATT_MAXG; ++g) acc[g] = 0.0f;
        const u16 *kr = kc + (long long)tid * kvDim;
        if ((hd & 7) == 0) {
            // 16-byte loads, four in flight per thread (a thread's row is hd contiguous halves)
            const uint4 *k4 = (const uint4 *)kr;
#pragma unroll 4
            for (int c8 = 0; c8 < (hd >> 3); ++c8) {
                const uint4 w = k4[c8];
                const u32 wv[4] = {w.x, w.y, w.z, w.w};
#pragma unroll
                for (int e = 0; e < 4; ++e) {
                    const float k0 = h2f((u16)(wv[e] & 0xFFFF)), k1 = h2f((u16)(wv[e] >> 16));
                    const int d = c8 * 8 + 2 * e;
#pragma unroll
                    for (int g = 0; g < ATT_MAXG; ++g) {
                        if (g < G) acc[g] += qs[g * hd + d] * k0 + qs[g * hd + d + 1] * k1;
                    }
                }
            }
        } else {
            for (int d = 0; d < hd; d += 2) {
                const u32 two = *(const u32 *)(kr + d);
                const float k0 = h2f((u16)(two & 0xFFFF)), k1 = h2f((u16)(two >> 16));
#pragma unroll
                for (int g = 0; g < ATT_MAXG; ++g) {
                    if (g < G) acc[g] += qs[g * hd + d] * k0 + qs[g * hd + d + 1] * k1;
                }
            }
        }
#pragma unroll
        for (int g = 0; g < ATT_MAXG; ++g) s[g] = acc[g] * scale;
    }
    // max and sum per head over the chunk
    float m[ATT_MAXG];
#pragma unroll
    for (int g = 0; g < ATT_MAXG; ++g) {
        if (g >= G) break;
        float v = s[g];
#pragma unroll
        for (int o = 16; o > 0; o >>= 1) v = fmaxf(v, __shfl_xor_sync(FULL_MASK, v, o));
        if (lane == 0) red[g][warp] = v;
    }
    __syncthreads();
#pragma unroll
    for (int g = 0; g < ATT_MAXG; ++g) {
        if (g >= G) break;
        m[g] = fmaxf(fmaxf(red[g][0], red[g][1]), fmaxf(red[g][2], red[g][3]));
        sc[g][tid] = tid < n ? __expf(s[g] - m[g]) : 0.0f;
    }
    __syncthreads();
    // weighted values: thread per d
    for (int d = tid; d < hd; d += blockDim.x) {
        float acc[ATT_MAXG];
#pragma unroll
        for (int g = 0; g < ATT_MAXG; ++g) acc[g] = 0.0f;
#pragma unroll 8
        for (int j = 0; j < n; ++j) {  // unrolled: eight independent loads in flight
            const float vv = h2f(vc[(long long)j * kvDim + d]);
#pragma unroll
            for (int g = 0; g < ATT_MAXG; ++g) {
                if (g < G) acc[g] += sc[g][j] * vv;
            }
        }
#pragma unroll
        for (int g = 0; g < ATT_MAXG; ++g) {
            if (g < G) pout[(long long)g * chunks * (hd + 2) + 2 + d] = acc[g];
        }
    }
    // sums
#pragma unroll
    for (int g = 0; g < ATT_MAXG; ++g) {
        if (g >= G) break;
        float v = sc[g][tid];
#pragma unroll
        for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(FULL_MASK, v, o);
        __syncthreads();
        if (lane == 0) red[g][warp] = v;
        __syncthreads();
        if (tid == 0) {
            pout[(long long)g * chunks * (hd + 2)] = m[g];
            pout[(long long)g * chunks * (hd + 2) + 1] = red[g][0] + red[g][1] + red[g][2] + red[g][3];
        }
    }
}

// Merge of one head's chunk partials, by one warp: out[d] = sum_c e_c acc_c[d] / sum_c e_c s_c with
// e_c = exp(m_c - max_c m_c) over the nc chunks at p (chunk c at p + c * (hd + 2)), every sum in a fixed order (max and
// sum lane-strided, then a butterfly; each d in increasing c) with every product and add explicitly rounded or fused,
// so whichever kernel merges, the output is the same. Partials are read from L2 (__ldcg): the merging block may not
// have written them. Each lane requests its chunk's maximum and sum together with the first MB chunks' values (lane j
// holds e_j and passes it by shuffle), so a merge of up to MB chunks waits on memory once: the same sums requested as
// they were added waited 2 + NI * nc / 8 times, an L2 round trip each on the decode step's critical path (step 309.2,
// 310.1 vs 321.2-328.8 tok/s, bench/results/e2e-h100.md round 8). NI = 32-wide slices of a head (hd <= 32 * NI). With
// hd == 128 a head's output is exactly one 128-group of the O projection's input, so qbits 6 or 8 also quantizes it
// into the record rec and scale *sa. A slice: with d0 > 0 or 32 * NI < hd the warp merges dims [d0, d0 + 32 * NI) only
// (the same operations on each of them: e_c and the total are the whole head's), stores them to out and stage too, and
// leaves quantizing to the caller (attention_warps with more warps than heads). MB: chunks whose values are in
// flight at once (NI * MB registers); the loops over them are unrolled, so a merge of few chunks with MB 32 issues
// every predicated-off load, shuffle and FMA of the other chunks too: merge_fit picks the smallest MB >= nc (8, 16 or
// the default; decode +0.6-1.3%, bench/results/e2e-h200.md round 10). The chunks are added in the same order for
// every MB (c = 0, 1, ...), so the output is the same.
template <int NI, int MB = (NI <= 4 ? 32 : 16)>
__device__ __forceinline__ void merge_head(const float *p, int nc, int hd, float *out, int qbits, u32 *rec, float *sa, int lane,
                                           int d0 = 0, float *stage = nullptr) {
    const long long S = hd + 2;
    const float ml = lane < nc ? __ldcg(p + lane * S) : -INFINITY;
    const float sl = lane < nc ? __ldcg(p + lane * S + 1) : 0.0f;
    float v[MB][NI];
    auto load_values = [&](int c0, int nb) {
#pragma unroll
        for (int j = 0; j < MB; ++j)
#pragma unroll
            for (int i = 0; i < NI; ++i) {
                const int d = d0 + i * 32 + lane;
                v[j][i] = j < nb && d < hd ? __ldcg(p + (c0 + j) * S + 2 + d) : 0.0f;
            }
    };
    load_values(0, min(MB, nc));
    float mx = ml;
    for (int c = lane + 32; c < nc; c += 32) mx = fmaxf(mx, __ldcg(p + c * S));
#pragma unroll
    for (int o = 16; o > 0; o >>= 1) mx = fmaxf(mx, __shfl_xor_sync(FULL_MASK, mx, o));
    float el = lane < nc ? __expf(ml - mx) : 0.0f;  // weight of chunk c0 + lane in the window at c0
    float total = lane < nc ? __fmul_rn(sl, el) : 0.0f;
    for (int c = lane + 32; c < nc; c += 32) total = __fmaf_rn(__ldcg(p + c * S + 1), __expf(__ldcg(p + c * S) - mx), total);
#pragma unroll
    for (int o = 16; o > 0; o >>= 1) total = __fadd_rn(total, __shfl_xor_sync(FULL_MASK, total, o));
    const float inv = 1.0f / total;
    float acc[NI];
#pragma unroll
    for (int i = 0; i < NI; ++i) acc[i] = 0.0f;
    for (int c0 = 0; c0 < nc; c0 += MB) {
        if (c0 > 0) {
            if ((c0 & 31) == 0) el = c0 + lane < nc ? __expf(__ldcg(p + (c0 + lane) * S) - mx) : 0.0f;
            load_values(c0, min(MB, nc - c0));
        }
        const int nb = min(MB, nc - c0);
#pragma unroll
        for (int j = 0; j < MB; ++j) {
            const float e = __shfl_sync(FULL_MASK, el, (c0 + j) & 31);
            if (j < nb) {
#pragma unroll
                for (int i = 0; i < NI; ++i) acc[i] = __fmaf_rn(v[j][i], e, acc[i]);
            }
        }
    }
    float q[4] = {0.0f, 0.0f, 0.0f, 0.0f};
#pragma unroll
    for (int i = 0; i < NI; ++i) {
        const int d = d0 + i * 32 + lane;
        if (d < hd) {
            const float val = acc[i] * inv;
            out[d] = val;
            if (stage != nullptr) stage[d] = val;
            if (i < 4) q[i] = val;
        }
    }
    if (qbits == 0 || hd != 128 || NI * 32 != hd) return;
    quantize_record(qbits, q, lane, rec, sa);
}

// merge_head with MB fitted to nc (fit: ATT_FIT_MERGE was set; else the default MB).
template <int NI>
__device__ __forceinline__ void merge_fit(bool fit, const float *p, int nc, int hd, float *out, int qbits, u32 *rec, float *sa, int lane,
                                          int d0 = 0, float *stage = nullptr) {
    if (fit && nc <= 8) merge_head<NI, 8>(p, nc, hd, out, qbits, rec, sa, lane, d0, stage);
    else if (fit && nc <= 16) merge_head<NI, 16>(p, nc, hd, out, qbits, rec, sa, lane, d0, stage);
    else merge_head<NI>(p, nc, hd, out, qbits, rec, sa, lane, d0, stage);
}

// Head sizes 32 * DPL (DPL dims per lane). Block (t, kvh, c) of W warps: warp w scores positions w, w + W, ... of the
// chunk (each a coalesced read of one cache row; U rows in flight per warp), the block takes max and sum per head,
// then warp w accumulates the same positions' values into per-lane registers, and the W warps' sums are added in
// shared memory in a fixed order (W = 16: warps w and w + 8 first, then the eight sums in order). W = 4 (U = 8) is
// the default; W = 8 and 16 (entry points _w8, _w16; head size 128) give each warp fewer positions and let the merging
// block split every head's merge into slices, so that fewer instructions lie on one warp's path: one warp a
// streaming multiprocessor issues a dependent instruction only every few cycles (ncu: 6.7 cycles per instruction), and
// that, not memory, is what a decode step's attention waits on (bench/results/e2e-h100.md, round 9).
#define ATT_UNROLL 8
// A lane's DPL halves of a cache row: loaded raw (uint2; DPL 2 uses .x), then widened.
template <int DPL>
__device__ __forceinline__ uint2 load_half_raw(const u16 *__restrict__ p) {
    return DPL == 4 ? *(const uint2 *)p : make_uint2(*(const u32 *)p, 0u);
}
template <int DPL>
__device__ __forceinline__ void widen_halves(uint2 w, float (&v)[DPL]) {
    v[0] = h2f((u16)(w.x & 0xFFFF)); v[1] = h2f((u16)(w.x >> 16));
    if constexpr (DPL == 4) { v[2] = h2f((u16)(w.y & 0xFFFF)); v[3] = h2f((u16)(w.y >> 16)); }
}
template <int DPL>
__device__ __forceinline__ void load_half_row(const u16 *__restrict__ p, float (&v)[DPL]) {
    widen_halves<DPL>(load_half_raw<DPL>(p), v);
}

// Merged in the kernel (decode steps): with counter != null, the block that finishes last among the chunks of (t, kvh)
// (counter[t * kvHeads + kvh] counts them; that block sets it back to 0) merges the G heads' partials, a warp per
// head, into out / act / sa as dec_attention_merge would (the same merge_head), saving the merge launch.
struct AttMerge {
    int *counter;
    float *out;
    int ldo, qbits;
    u32 *act;
    float *sa;
    int ldsa;
};

// opts bit 0 (ATT_EARLY_VALUES): a chunk of at most W * U positions (decode steps) loads its values with its
// keys, a memory round trip before they are needed. Bit 1 (ATT_PRELOAD, with bit 0; only where no position but the
// row's own was written by this forward: a decode step, where every row is its own sequence): the keys and values of
// the chunk's positions other than the row's own, written by earlier steps, are loaded before the wait for the kernel
// that wrote q and the own position's key and value, so their memory round trip overlaps that kernel's tail.
#define ATT_EARLY_VALUES 1
#define ATT_PRELOAD 2
// Bit 2 (ATT_FIT_MERGE): the in-kernel merge unrolls over as few chunks as the row's position needs (merge_fit).
#define ATT_FIT_MERGE 4
// The in-kernel merge's hand-off is message passing (partials stored, then a relaxed atomic count; the last block
// counts, then loads them): a release fence before the count and an acquire fence after it are what the PTX memory
// model asks for (fence.acq_rel; __threadfence's fence.sc timed the same: 285.0, 285.1 vs 285.1, 285.2 tok/s).
__device__ __forceinline__ void att_fence() { asm volatile("fence.acq_rel.gpu;" ::: "memory"); }

// Phase times of decode attention, for profile runs only (the `_trace` entry points; the others compile without it):
// thread 0 of each block stores the global timer (ns) at ATT_TRACE_STAMPS points to trace[block * ATT_TRACE_STAMPS + k],
// block = (t * kvHeads + kvh) * chunks + c: 0 start, 1 past the wait for the qkv matmul, 2 scores in shared memory,
// 3 partials about to be stored, 4 counted (fence and atomic done), 5 the merging block's fence done, 6 merge done (the
// merging block only). A block without positions stores 0 and 1 only; the host zeroes the buffer first.
#define ATT_TRACE_STAMPS 7
template <bool TRACE>
__device__ __forceinline__ void att_stamp(unsigned long long *trace, int k) {
    if constexpr (TRACE) {
        if (threadIdx.x == 0) {
            unsigned long long ns;
            asm volatile("mov.u64 %0, %%globaltimer;" : "=l"(ns));
            trace[(((long long)blockIdx.x * gridDim.y + blockIdx.y) * gridDim.z + blockIdx.z) * ATT_TRACE_STAMPS + k] = ns;
        }
    }
}

template <int DPL, bool TRACE = false, int W = 4, int U = ATT_UNROLL>
__device__ __forceinline__ void attention_warps(const RowInfo *__restrict__ rows, const float *__restrict__ q, int ldq,
        int layer, int heads, int kvHeads, float scale, float *__restrict__ part, int chunks, int ch, const AttMerge mg, int opts,
        unsigned long long *trace = nullptr) {
    pdl_launch();
    att_stamp<TRACE>(trace, 0);
    constexpr int HD = 32 * DPL;
    __shared__ float sc[ATT_MAXG][ATT_CH];
    __shared__ float red[ATT_MAXG][W];
    __shared__ float accs[W > 8 ? 8 : W][ATT_MAXG * HD];
    const int t = blockIdx.x, kvh = blockIdx.y, c = blockIdx.z;
    const RowInfo r = rows[t];  // the host's row table, copied before the forward's first kernel: readable before the wait
    const int G = heads / kvHeads, kvDim = kvHeads * HD;
    const int p0 = c * ch;
    const int n = min(ch, r.pos + 1 - p0);
    const int tid = threadIdx.x, lane = tid & 31, warp = tid >> 5;
    const u16 *kc = (const u16 *)r.cache + ((long long)(layer * 2) * r.cap + p0) * kvDim + kvh * HD + lane * DPL;
    const u16 *vc = (const u16 *)r.cache + ((long long)(layer * 2 + 1) * r.cap + p0) * kvDim + kvh * HD + lane * DPL;
    // scores; with early values a chunk is one round per warp (positions warp, warp + W, ...)
    const bool early = (opts & ATT_EARLY_VALUES) != 0 && n <= W * U;
    const bool preload = early && (opts & ATT_PRELOAD) != 0;
    const int own = r.pos - p0;  // the row's own position in this chunk (n - 1 in its last chunk; else >= n)
    uint2 kraw[U], vraw[U];
    if (preload) {
#pragma unroll
        for (int u = 0; u < U; ++u) {
            const int j = warp + W * u;
            if (j < n && j != own) {
                kraw[u] = load_half_raw<DPL>(kc + (long long)j * kvDim);
                vraw[u] = load_half_raw<DPL>(vc + (long long)j * kvDim);
            }
        }
    }
    pdl_wait();
    att_stamp<TRACE>(trace, 1);
    if (n <= 0) return;  // the merge reads only chunks up to the row's position
    float qr[ATT_MAXG][DPL];
#pragma unroll
    for (int g = 0; g < ATT_MAXG; ++g)
#pragma unroll
        for (int i = 0; i < DPL; ++i) qr[g][i] = g < G ? q[(long long)t * ldq + (kvh * G + g) * HD + lane * DPL + i] : 0.0f;
    for (int j0 = warp; j0 < n; j0 += W * U) {
        float kv[U][DPL];
#pragma unroll
        for (int u = 0; u < U; ++u) {
            const int j = j0 + W * u;
            if (j < n) {
                if (!preload || j == own) {
                    kraw[u] = load_half_raw<DPL>(kc + (long long)j * kvDim);
                    if (early) vraw[u] = load_half_raw<DPL>(vc + (long long)j * kvDim);
                }
                widen_halves<DPL>(kraw[u], kv[u]);
            }
        }
#pragma unroll
        for (int u = 0; u < U; ++u) {
            const int j = j0 + W * u;
            if (j >= n) break;
#pragma unroll
            for (int g = 0; g < ATT_MAXG; ++g) {
                if (g >= G) break;
                float d = 0.0f;
#pragma unroll
                for (int i = 0; i < DPL; ++i) d += qr[g][i] * kv[u][i];
#pragma unroll
                for (int o = 16; o > 0; o >>= 1) d += __shfl_xor_sync(FULL_MASK, d, o);
                if (lane == 0) sc[g][j] = d * scale;
            }
        }
    }
    __syncthreads();
    att_stamp<TRACE>(trace, 2);
    // max and sum of exp per head over the chunk: thread j < n owns position j
    float m[ATT_MAXG];
#pragma unroll
    for (int g = 0; g < ATT_MAXG; ++g) {
        if (g >= G) break;
        float v = tid < n ? sc[g][tid] : -INFINITY;
#pragma unroll
        for (int o = 16; o > 0; o >>= 1) v = fmaxf(v, __shfl_xor_sync(FULL_MASK, v, o));
        if (lane == 0) red[g][warp] = v;
    }
    __syncthreads();
#pragma unroll
    for (int g = 0; g < ATT_MAXG; ++g) {
        if (g >= G) break;
        m[g] = red[g][0];  // a maximum: the same value in any order
#pragma unroll
        for (int w = 1; w < W; ++w) m[g] = fmaxf(m[g], red[g][w]);
    }
    __syncthreads();  // red is reused for the sums
#pragma unroll
    for (int g = 0; g < ATT_MAXG; ++g) {
        if (g >= G) break;
        float e = 0.0f;
        if (tid < n) {
            e = __expf(sc[g][tid] - m[g]);
            sc[g][tid] = e;
        }
#pragma unroll
        for (int o = 16; o > 0; o >>= 1) e += __shfl_xor_sync(FULL_MASK, e, o);
        if (lane == 0) red[g][warp] = e;
    }
    __syncthreads();
    // weighted values
    float acc[ATT_MAXG][DPL];
#pragma unroll
    for (int g = 0; g < ATT_MAXG; ++g)
#pragma unroll
        for (int i = 0; i < DPL; ++i) acc[g][i] = 0.0f;
    for (int j0 = warp; j0 < n; j0 += W * U) {
        float vv[U][DPL];
#pragma unroll
        for (int u = 0; u < U; ++u) {
            const int j = j0 + W * u;
            if (j < n) widen_halves<DPL>(early ? vraw[u] : load_half_raw<DPL>(vc + (long long)j * kvDim), vv[u]);
        }
#pragma unroll
        for (int u = 0; u < U; ++u) {
            const int j = j0 + W * u;
            if (j >= n) break;
#pragma unroll
            for (int g = 0; g < ATT_MAXG; ++g) {
                if (g >= G) break;
                const float w = sc[g][j];
#pragma unroll
                for (int i = 0; i < DPL; ++i) acc[g][i] += w * vv[u][i];
            }
        }
    }
    constexpr int SLOTS = W > 8 ? 8 : W;  // W = 16: warps 8..15 store first, warps 0..7 add theirs to the slot
    if constexpr (W > SLOTS) {
        if (warp >= SLOTS) {
#pragma unroll
            for (int g = 0; g < ATT_MAXG; ++g) {
                if (g >= G) break;
#pragma unroll
                for (int i = 0; i < DPL; ++i) accs[warp - SLOTS][g * HD + lane * DPL + i] = acc[g][i];
            }
        }
        __syncthreads();
    }
    if (W == SLOTS || warp < SLOTS) {
#pragma unroll
        for (int g = 0; g < ATT_MAXG; ++g) {
            if (g >= G) break;
#pragma unroll
            for (int i = 0; i < DPL; ++i) {
                float *a = &accs[warp][g * HD + lane * DPL + i];
                *a = W > SLOTS ? acc[g][i] + *a : acc[g][i];
            }
        }
    }
    __syncthreads();
    att_stamp<TRACE>(trace, 3);
    float *pout = part + ((long long)t * heads + kvh * G) * chunks * (HD + 2) + (long long)c * (HD + 2);
    for (int e = tid; e < G * HD; e += blockDim.x) {
        const int g = e / HD, d = e % HD;
        float sum = accs[0][e];
#pragma unroll
        for (int w = 1; w < SLOTS; ++w) sum += accs[w][e];
        pout[(long long)g * chunks * (HD + 2) + 2 + d] = sum;
    }
    if (tid < G) {
        pout[(long long)tid * chunks * (HD + 2)] = m[tid];
        float sum = red[tid][0];
#pragma unroll
        for (int w = 1; w < W; ++w) sum += red[tid][w];
        pout[(long long)tid * chunks * (HD + 2) + 1] = sum;
    }
    if (mg.counter == nullptr) return;
    __shared__ int last;
    att_fence();  // this block's partials are visible device-wide before it is counted
    __syncthreads();
    int *count = mg.counter + t * kvHeads + kvh;
    if (tid == 0) last = atomicAdd(count, 1) == r.pos / ch;  // chunks 0 .. pos / ch take part
    __syncthreads();
    att_stamp<TRACE>(trace, 4);
    if (!last) return;
    att_fence();
    att_stamp<TRACE>(trace, 5);
    const int nc = r.pos / ch + 1;
    const bool fit = (opts & ATT_FIT_MERGE) != 0;
    // slices per head: as many as the warps allow (a slice is at least 32 dims); W = 4 merges a whole head per warp
    const int SL = DPL != 4 || W == 4 ? 1 : W >= 4 * G ? 4 : W >= 2 * G ? 2 : 1;
    if (SL == 1) {
        if constexpr (W < 16) {  // W = 16 always slices (G <= 8); this keeps merge_head<4>'s registers out of it
            for (int g = warp; g < G; g += W) {
                const int h = kvh * G + g;
                const float *ph = part + ((long long)t * heads + h) * chunks * (HD + 2);
                float *oh = mg.out + (long long)t * mg.ldo + h * HD;
                u32 *rh = mg.act + ((long long)t * heads + h) * 32;
                float *sh = mg.sa + (long long)h * mg.ldsa + t;
                merge_fit<DPL>(fit, ph, nc, HD, oh, mg.qbits, rh, sh, lane);
            }
        }
    } else if constexpr (DPL == 4 && W > 4) {
        __shared__ float staged[ATT_MAXG][HD];
        const int g = warp / SL, sl = warp % SL;
        if (g < G) {
            const int h = kvh * G + g;
            const float *ph = part + ((long long)t * heads + h) * chunks * (HD + 2);
            float *oh = mg.out + (long long)t * mg.ldo + h * HD;
            if (SL == 4) merge_fit<1>(fit, ph, nc, HD, oh, 0, nullptr, nullptr, lane, sl * 32, staged[g]);
            else merge_fit<2>(fit, ph, nc, HD, oh, 0, nullptr, nullptr, lane, sl * 64, staged[g]);
        }
        if (mg.qbits != 0) {  // one warp per head quantizes the staged head (the record needs all 128 values)
            __syncthreads();
            if (warp < G) {
                const int h = kvh * G + warp;
                const float qv[4] = {staged[warp][lane], staged[warp][32 + lane], staged[warp][64 + lane], staged[warp][96 + lane]};
                quantize_record(mg.qbits, qv, lane, mg.act + ((long long)t * heads + h) * 32, mg.sa + (long long)h * mg.ldsa + t);
            }
        }
    }
    if (TRACE) __syncthreads();  // every warp's merge done before the stamp
    att_stamp<TRACE>(trace, 6);
    if (tid == 0) *count = 0;
}

#define ATT_MERGE_ARGS int *__restrict__ counter, float *__restrict__ out, int ldo, int qbits, u32 *__restrict__ act, \
    float *__restrict__ sa, int ldsa, int opts
extern "C" __global__ void __launch_bounds__(128) dec_attention_hd64(const RowInfo *__restrict__ rows, const float *__restrict__ q,
        int ldq, int layer, int heads, int kvHeads, int hd, float scale, float *__restrict__ part, int chunks, int ch, ATT_MERGE_ARGS) {
    attention_warps<2>(rows, q, ldq, layer, heads, kvHeads, scale, part, chunks, ch, AttMerge{counter, out, ldo, qbits, act, sa, ldsa}, opts);
}
extern "C" __global__ void __launch_bounds__(128) dec_attention_hd128(const RowInfo *__restrict__ rows, const float *__restrict__ q,
        int ldq, int layer, int heads, int kvHeads, int hd, float scale, float *__restrict__ part, int chunks, int ch, ATT_MERGE_ARGS) {
    attention_warps<4>(rows, q, ldq, layer, heads, kvHeads, scale, part, chunks, ch, AttMerge{counter, out, ldo, qbits, act, sa, ldsa}, opts);
}
extern "C" __global__ void __launch_bounds__(256) dec_attention_hd128_w8(const RowInfo *__restrict__ rows, const float *__restrict__ q,
        int ldq, int layer, int heads, int kvHeads, int hd, float scale, float *__restrict__ part, int chunks, int ch, ATT_MERGE_ARGS) {
    attention_warps<4, false, 8, 8>(rows, q, ldq, layer, heads, kvHeads, scale, part, chunks, ch, AttMerge{counter, out, ldo, qbits, act, sa, ldsa}, opts);
}
extern "C" __global__ void __launch_bounds__(512) dec_attention_hd128_w16(const RowInfo *__restrict__ rows, const float *__restrict__ q,
        int ldq, int layer, int heads, int kvHeads, int hd, float scale, float *__restrict__ part, int chunks, int ch, ATT_MERGE_ARGS) {
    attention_warps<4, false, 16, 4>(rows, q, ldq, layer, heads, kvHeads, scale, part, chunks, ch, AttMerge{counter, out, ldo, qbits, act, sa, ldsa}, opts);
}
extern "C" __global__ void __launch_bounds__(128) dec_attention_hd64_trace(const RowInfo *__restrict__ rows, const float *__restrict__ q,
        int ldq, int layer, int heads, int kvHeads, int hd, float scale, float *__restrict__ part, int chunks, int ch, ATT_MERGE_ARGS,
        unsigned long long *__restrict__ trace) {
    attention_warps<2, true>(rows, q, ldq, layer, heads, kvHeads, scale, part, chunks, ch, AttMerge{counter, out, ldo, qbits, act, sa, ldsa},
                             opts, trace);
}
extern "C" __global__ void __launch_bounds__(128) dec_attention_hd128_trace(const RowInfo *__restrict__ rows, const float *__restrict__ q,
        int ldq, int layer, int heads, int kvHeads, int hd, float scale, float *__restrict__ part, int chunks, int ch, ATT_MERGE_ARGS,
        unsigned long long *__restrict__ trace) {
    attention_warps<4, true>(rows, q, ldq, layer, heads, kvHeads, scale, part, chunks, ch, AttMerge{counter, out, ldo, qbits, act, sa, ldsa},
                             opts, trace);
}
extern "C" __global__ void __launch_bounds__(256) dec_attention_hd128_w8_trace(const RowInfo *__restrict__ rows, const float *__restrict__ q,
        int ldq, int layer, int heads, int kvHeads, int hd, float scale, float *__restrict__ part, int chunks, int ch, ATT_MERGE_ARGS,
        unsigned long long *__restrict__ trace) {
    attention_warps<4, true, 8, 8>(rows, q, ldq, layer, heads, kvHeads, scale, part, chunks, ch,
                                   AttMerge{counter, out, ldo, qbits, act, sa, ldsa}, opts, trace);
}
extern "C" __global__ void __launch_bounds__(512) dec_attention_hd128_w16_trace(const RowInfo *__restrict__ rows, const float *__restrict__ q,
        int ldq, int layer, int heads, int kvHeads, int hd, float scale, float *__restrict__ part, int chunks, int ch, ATT_MERGE_ARGS,
        unsigned long long *__restrict__ trace) {
    attention_warps<4, true, 16, 4>(rows, q, ldq, layer, heads, kvHeads, scale, part, chunks, ch,
                                    AttMerge{counter, out, ldo, qbits, act, sa, ldsa}, opts, trace);
}

// Prompt attention, head size 128: block (row tile of ATT_RT consecutive rows of one prompt, kvh, chunk c of
// ATT_TCH positions). The chunk's keys and values are staged once in shared memory and serve every query of the tile
// (ATT_RT rows x G heads), so the cache is read once per tile instead of once per row. Warp w is row w of the tile:
// lane j scores positions j and j + 32 for the row's G heads (keys padded by one word per row, so the 32 lanes read
// 32 banks), the row's max and sum come from warp shuffles, and then lane j accumulates dims 2j, 2j+1, 64+2j, 65+2j
// over the chunk's positions. Writes the same partials as the per-row kernels (chunk size ATT_TCH), which
// dec_attention_merge combines. Rows of the tile share one cache (a prompt); the host uses it for prompt forwards
// only. Grid: (ceil(M / ATT_RT), kvHeads, chunks), ATT_RT * 32 threads; dynamic shared memory attention_tile_smem().
#define ATT_RT 8
#define ATT_TCH 64
// (256 threads = ATT_RT warps)
extern "C" __global__ void __launch_bounds__(256) dec_attention_tile_hd128(const RowInfo *__restrict__ rows, int M,
        const float *__restrict__ q, int ldq, int layer, int heads, int kvHeads, float scale, float *__restrict__ part, int chunks) {
    pdl_launch();
    pdl_wait();
    constexpr int HD = 128, KS = HD / 2 + 1;  // key row stride in 32-bit words (padded)
    extern __shared__ uint4 tile_smem[];
    const int G = heads / kvHeads, kvDim = kvHeads * HD;
    u32 *ks = (u32 *)tile_smem;                                  // ATT_TCH x KS words: keys as half pairs
    u32 *vs = ks + ATT_TCH * KS;                      // ATT_TCH x HD/2 words: values as half pairs
    float *qs = (float *)(vs + ATT_TCH * (HD / 2));   // ATT_RT x G x HD
    float *ps = qs + ATT_RT * G * HD;                 // ATT_RT x G x ATT_TCH weights
    const int t0 = blockIdx.x * ATT_RT, kvh = blockIdx.y, c = blockIdx.z;
    const int tid = threadIdx.x, lane = tid & 31, w = tid >> 5;
    const int p0 = c * ATT_TCH;
    const RowInfo first = rows[t0];
    const int last = min(M, t0 + ATT_RT) - 1;
    if (p0 > rows[last].pos) return;  // the whole chunk lies after every row of the tile (causal)
    const u16 *kc = (const u16 *)first.cache + ((long long)(layer * 2) * first.cap) * kvDim + kvh * HD;
    const u16 *vc = (const u16 *)first.cache + ((long long)(layer * 2 + 1) * first.cap) * kvDim + kvh * HD;
    // stage keys and values (16-byte chunks; positions past the cache's capacity read as zero)
    for (int i = tid; i < ATT_TCH * (HD / 8); i += blockDim.x) {
        const int j = i / (HD / 8), part8 = i % (HD / 8), p = p0 + j;
        uint4 kk = make_uint4(0, 0, 0, 0), vv = kk;
        if (p < first.cap) {
            kk = *(const uint4 *)(kc + (long long)p * kvDim + part8 * 8);
            vv = *(const uint4 *)(vc + (long long)p * kvDim + part8 * 8);
        }
        u32 *kd = ks + j * KS + part8 * 4;
        kd[0] = kk.x; kd[1] = kk.y; kd[2] = kk.z; kd[3] = kk.w;
        *(uint4 *)(vs + j * (HD / 2) + part8 * 4) = vv;
    }
    for (int i = tid; i < ATT_RT * G * HD; i += blockDim.x) {
        const int r = i / (G * HD), e = i % (G * HD);
        qs[i] = t0 + r < M ? q[(long long)(t0 + r) * ldq + (kvh * G) * HD + e] : 0.0f;
    }
    __syncthreads();
    const int t = t0 + w;
    const int pos = t < M ? rows[t].pos : -1;
    const int n = min(ATT_TCH, pos + 1 - p0);  // valid positions of this row in the chunk
    float m[ATT_MAXG], ssum[ATT_MAXG];
    if (n > 0) {
        float sc[ATT_MAXG][2];
#pragma unroll
        for (int g = 0; g < ATT_MAXG; ++g) sc[g][0] = sc[g][1] = 0.0f;
        const float *qw = qs + w * G * HD;
#pragma unroll 4
        for (int d2 = 0; d2 < HD / 2; ++d2) {
            const u32 k0 = ks[lane * KS + d2], k1 = ks[(lane + 32) * KS + d2];
            const float a0 = h2f((u16)(k0 & 0xFFFF)), a1 = h2f((u16)(k0 >> 16));
            const float b0 = h2f((u16)(k1 & 0xFFFF)), b1 = h2f((u16)(k1 >> 16));
#pragma unroll
            for (int g = 0; g < ATT_MAXG; ++g) {
                if (g >= G) break;
                const float2 qq = *(const float2 *)(qw + g * HD + 2 * d2);
                sc[g][0] += qq.x * a0 + qq.y * a1;
                sc[g][1] += qq.x * b0 + qq.y * b1;
            }
        }
        const bool v0 = lane < n, v1 = lane + 32 < n;
#pragma unroll
        for (int g = 0; g < ATT_MAXG; ++g) {
            if (g >= G) break;
            const float s0 = v0 ? sc[g][0] * scale : -INFINITY, s1 = v1 ? sc[g][1] * scale : -INFINITY;
            float mx = fmaxf(s0, s1);
#pragma unroll
            for (int o = 16; o > 0; o >>= 1) mx = fmaxf(mx, __shfl_xor_sync(FULL_MASK, mx, o));
            const float e0 = v0 ? __expf(s0 - mx) : 0.0f, e1 = v1 ? __expf(s1 - mx) : 0.0f;
            float sum = e0 + e1;
#pragma unroll
            for (int o = 16; o > 0; o >>= 1) sum += __shfl_xor_sync(FULL_MASK, sum, o);
            m[g] = mx;
            ssum[g] = sum;
            ps[(w * G + g) * ATT_TCH + lane] = e0;
            ps[(w * G + g) * ATT_TCH + lane + 32] = e1;
        }
    }
    __syncwarp();
    if (n <= 0) return;  // no barrier follows: the warp's row owns ps row w alone
    float acc[ATT_MAXG][4];
#pragma unroll
    for (int g = 0; g < ATT_MAXG; ++g)
#pragma unroll
        for (int i = 0; i < 4; ++i) acc[g][i] = 0.0f;
#pragma unroll 4
    for (int j = 0; j < n; ++j) {
        const u32 x0 = vs[j * (HD / 2) + lane], x1 = vs[j * (HD / 2) + 32 + lane];
        const float f0 = h2f((u16)(x0 & 0xFFFF)), f1 = h2f((u16)(x0 >> 16)), f2 = h2f((u16)(x1 & 0xFFFF)), f3 = h2f((u16)(x1 >> 16));
#pragma unroll
        for (int g = 0; g < ATT_MAXG; ++g) {
            if (g >= G) break;
            const float pw = ps[(w * G + g) * ATT_TCH + j];
            acc[g][0] += pw * f0; acc[g][1] += pw * f1; acc[g][2] += pw * f2; acc[g][3] += pw * f3;
        }
    }
#pragma unroll
    for (int g = 0; g < ATT_MAXG; ++g) {
        if (g >= G) break;
        float *pout = part + (((long long)t * heads + kvh * G + g) * chunks + c) * (HD + 2);
        pout[2 + 2 * lane] = acc[g][0];
        pout[3 + 2 * lane] = acc[g][1];
        pout[2 + 64 + 2 * lane] = acc[g][2];
        pout[3 + 64 + 2 * lane] = acc[g][3];
        if (lane == 0) {
            pout[0] = m[g];
            pout[1] = ssum[g];
        }
    }
}

// Merges the attention chunks of every (row t, head h) into out (row t at out + t * ldo, head h at + h * hd), with
// the chunks c <= pos / ch of row t's position; quantized as merge_head says (record t * heads + h, scale
// sa[h * ldsa + t]). Grid: (M, ceil(heads / 4)), 128 threads: a warp per head.
extern "C" __global__ void __launch_bounds__(128) dec_attention_merge(const RowInfo *__restrict__ rows, const float *__restrict__ part,
        int chunks, int ch, int heads, int hd, float *__restrict__ out, int ldo, int qbits, u32 *__restrict__ act,
        float *__restrict__ sa, int ldsa) {
    pdl_launch();
    pdl_wait();
    const int t = blockIdx.x, h = blockIdx.y * 4 + (threadIdx.x >> 5), lane = threadIdx.x & 31;
    if (h >= heads) return;
    const float *ph = part + ((long long)t * heads + h) * chunks * (hd + 2);
    const int nc = rows[t].pos / ch + 1;
    float *oh = out + (long long)t * ldo + h * hd;
    u32 *rh = act + ((long long)t * heads + h) * 32;
    float *sh = sa + (long long)h * ldsa + t;
    if (hd == 64) merge_head<2>(ph, nc, hd, oh, qbits, rh, sh, lane);
    else if (hd == 128) merge_head<4>(ph, nc, hd, oh, qbits, rh, sh, lane);
    else merge_head<8>(ph, nc, hd, oh, qbits, rh, sh, lane);
}

// ---------------------------------------------------------------------------------------- SwiGLU + quant
// h = silu(gate) * up = gate / (1 + e^-gate) * up (host order of operations), per (row t, group g) in one warp:
// stored to out (fp32, stride n) and quantized (qbits 6 or 8; 0: none). Grid: ceil(M * G * 32 / 256) blocks. The
// warp requests its eight gate and up values before computing any (the division and expf between them kept the
// compiler from hoisting the loads: decode step 338-341 vs 321-329 tok/s, bench/results/e2e-h100.md round 9).
extern "C" __global__ void __launch_bounds__(256) dec_swiglu(const float *__restrict__ gate, int ldg, const float *__restrict__ up,
        int ldu, int M, int n, float *__restrict__ out, int qbits, u32 *__restrict__ act, float *__restrict__ sa, int ldsa) {
    pdl_launch();
    pdl_wait();
    const long long warp = ((long long)blockIdx.x * blockDim.x + threadIdx.x) >> 5;
    const int lane = threadIdx.x & 31, G = (n + 127) / 128;
    if (warp >= (long long)M * G) return;
    const int t = (int)(warp / G), g = (int)(warp % G);
    float gv[4], uv[4], v[4];
#pragma unroll
    for (int i = 0; i < 4; ++i) {  // every load requested before the first is used: one L2 round trip, not eight
        const int k = g * 128 + i * 32 + lane;
        gv[i] = k < n ? gate[(long long)t * ldg + k] : 0.0f;
        uv[i] = k < n ? up[(long long)t * ldu + k] : 0.0f;
    }
#pragma unroll
    for (int i = 0; i < 4; ++i) {
        const int k = g * 128 + i * 32 + lane;
        v[i] = 0.0f;
        if (k < n) {
            v[i] = __fmul_rn(__fdiv_rn(gv[i], __fadd_rn(1.0f, expf(-gv[i]))), uv[i]);
            out[(long long)t * n + k] = v[i];
        }
    }
    if (qbits == 0) return;
    u32 *rec = act + ((long long)t * G + g) * 32;
    quantize_record(qbits, v, lane, rec, sa + (long long)g * ldsa + t);
}

// ------------------------------------------------------------- fused ends of the ordered GEMV (decode, M <= 8)
// flexq.cu's ordered GEMV with work of a neighbouring kernel folded in, for forwards of few rows where each kernel
// boundary costs more than the work beside it.
//
// dec_qkv_rope_gemv: the stacked q|k|v matmul (N = qDim + 2 * kvDim rows) whose epilogue is dec_rope_store: q and k
// rotated (the same fp32 operations on the same values), q stored to y (fp32, as the attention kernels read it), k and
// v rounded to fp16 into the row's cache at its position. Rows 2i and 2i + 1 of a head lie in one 16-row tile and in
// lanes j, j ^ 1 of the sum round, so a rotation pair meets through one shuffle.
struct OrdRopeStore {
    float *y;
    int N;
    const RowInfo *rows;
    int qDim, kvDim, hd, pairs;
    const float *cosT, *sinT;
    int layer;
    __device__ __forceinline__ void operator()(int t, int r, float v, bool valid) const {
        const float other = __shfl_xor_sync(FULL_MASK, v, 1);
        if (!valid || r >= N) return;
        const int part = r < qDim ? 0 : (r < qDim + kvDim ? 1 : 2);  // q, k, v
        const int e = r - (part == 0 ? 0 : (part == 1 ? qDim : qDim + kvDim));
        const RowInfo ri = rows[t];
        float out = v;
        const int d = e % hd, i = d >> 1;
        if (part < 2 && i < pairs) {
            const float c = cosT[(long long)ri.pos * pairs + i], sn = sinT[(long long)ri.pos * pairs + i];
            const float x0 = (d & 1) ? other : v, x1 = (d & 1) ? v : other;
            out = rope_rotate(x0, x1, c, sn, d & 1);
        }
        y[(long long)t * N + r] = out;
        if (part > 0) ((u16 *)ri.cache)[((long long)(layer * 2 + part - 1) * ri.cap + ri.pos) * kvDim + e] = f2h(out);
    }
};

// Each comes as the ordered GEMV does: lean, and `_deep` for K past one round of batches (flexq.cu gemv_ord_body).
#define DEC_QKV_ROPE_GEMV(name, BOUNDS, DEEP) \
    extern "C" __global__ void BOUNDS name(GEMM_ARGS, const RowInfo *__restrict__ rows, int qDim, int kvDim, int hd, int pairs, \
                                           const float *__restrict__ cosT, const float *__restrict__ sinT, int layer) { \
        gemv_ord_body<false, DEEP>(ORD_RECORDS, OrdRopeStore{y, N, rows, qDim, kvDim, hd, pairs, cosT, sinT, layer}, wt, ws, P, M, \
                                   N, G); \
    }
DEC_QKV_ROPE_GEMV(dec_qkv_rope_gemv, __launch_bounds__(ORD_WARPS * 32, ORD_MIN_BLOCKS), false)
DEC_QKV_ROPE_GEMV(dec_qkv_rope_gemv_deep, __launch_bounds__(ORD_WARPS * 32), true)

// dec_resid_gemv: a matmul whose output is the residual add (o and down in a decode step): x[t][r] += y, in place
// (each element read and written by its own thread; the same fp32 add as dec_add_rmsnorm's x + delta), and the
// sum of squares of the new x over the tile's 16 rows, in double (a fixed 16-lane tree), to part[t * gridDim.x + tile]
// for dec_rmsnorm_parts. N = dim.
struct OrdResidualStore {
    float *x;
    int N;
    double *part;
    __device__ __forceinline__ void operator()(int t, int r, float v, bool valid) const {
        double sq = 0.0;
        if (valid && r < N) {
            const float nx = __fadd_rn(x[(long long)t * N + r], v);
            x[(long long)t * N + r] = nx;
            sq = (double)nx * (double)nx;
        }
#pragma unroll
        for (int o = 8; o > 0; o >>= 1) sq += __shfl_xor_sync(FULL_MASK, sq, o);  // lanes 0-15 / 16-31: rows of one t
        if (valid && (r & 15) == 0) part[(long long)t * gridDim.x + blockIdx.x] = sq;
    }
};

extern "C" __global__ void __launch_bounds__(ORD_WARPS * 32, ORD_MIN_BLOCKS) dec_resid_gemv(GEMM_ARGS, double *__restrict__ part) {
    gemv_ord_body<false>(ORD_RECORDS, OrdResidualStore{y, N, part}, wt, ws, P, M, N, G);
}
extern "C" __global__ void __launch_bounds__(ORD_WARPS * 32) dec_resid_gemv_deep(GEMM_ARGS, double *__restrict__ part) {
    gemv_ord_body<false, true>(ORD_RECORDS, OrdResidualStore{y, N, part}, wt, ws, P, M, N, G);
}

// ------------------------------------------------------------------------------- RMSNorm from tile sums
// dec_add_rmsnorm without the add and without a block-wide reduction: the matmul before it (dec_resid_gemv) left the
// sums of squares of x per 16-row tile, so each warp takes one (row t, 128-group g) on its own: it adds the row's
// `tiles` partial sums (lane-strided, then a butterfly: a fixed order, the same in every warp), inv =
// (float)(1 / sqrt(sum / dim + eps)), n = (x * inv) * w for its group, stored to out (if out != null) and quantized
// (qbits 6 or 8). Grid: (M, ceil(G / 8)), 256 threads.
extern "C" __global__ void __launch_bounds__(256) dec_rmsnorm_parts(const float *__restrict__ x, int dim, const double *__restrict__ part,
        int tiles, const float *__restrict__ w, float eps, float *__restrict__ out, int qbits, u32 *__restrict__ act,
        float *__restrict__ sa, int ldsa) {
    pdl_launch();
    const int t = blockIdx.x, lane = threadIdx.x & 31, g = blockIdx.y * 8 + (threadIdx.x >> 5);
    const int G = (dim + 127) / 128;
    // every load is requested before the first is used (the norm weights before the wait: no kernel writes them), so
    // the kernel waits on memory once
    float wv[4], xv[4];
#pragma unroll
    for (int i = 0; i < 4; ++i) {
        const int k = g * 128 + i * 32 + lane;
        wv[i] = g < G && k < dim ? w[k] : 0.0f;
    }
    pdl_wait();
    if (g >= G) return;
#pragma unroll
    for (int i = 0; i < 4; ++i) {
        const int k = g * 128 + i * 32 + lane;
        xv[i] = k < dim ? x[(long long)t * dim + k] : 0.0f;
    }
    double ss = 0.0;
#pragma unroll 8
    for (int i = lane; i < tiles; i += 32) ss += part[(long long)t * tiles + i];
#pragma unroll
    for (int o = 16; o > 0; o >>= 1) ss += __shfl_xor_sync(FULL_MASK, ss, o);
    const float inv = (float)(1.0 / sqrt(ss / dim + (double)eps));
    float v[4];
#pragma unroll
    for (int i = 0; i < 4; ++i) {
        const int k = g * 128 + i * 32 + lane;
        v[i] = 0.0f;
        if (k < dim) {
            v[i] = __fmul_rn(__fmul_rn(xv[i], inv), wv[i]);
            if (out != nullptr) out[(long long)t * dim + k] = v[i];
        }
    }
    if (qbits == 0) return;
    u32 *rec = act + ((long long)t * G + g) * 32;
    quantize_record(qbits, v, lane, rec, sa + (long long)g * ldsa + t);
}

// ------------------------------------------------------------------------------------------------ argmax
// out[t] = argmax of logits row t (lowest index among equal maxima; NaN never wins, as the host's `>` scan; a row of
// NaNs gives 0). Two kernels, because one block per row reads a 128k vocabulary one load per thread at a time (about
// 50 us): dec_argmax_parts, grid (M, ARGMAX_PARTS) x 256 threads, reduces slice p of row t (four independent loads per
// thread in flight) to part[t * ARGMAX_PARTS + p] = {value, index}; dec_argmax_final, M blocks of ARGMAX_PARTS
// threads, reduces the partials. Every step keeps (larger value, or equal value and lower index), so the result does
// not depend on how the row was split.
#define ARGMAX_PARTS 64  // also dec_argmax_final's block size (its launch bounds)
#define ARGMAX_NONE 0x7fffffff
__device__ __forceinline__ void argmax_take(float &best, int &idx, float v, int i) {
    if (v > best || (v == best && i < idx) || (idx == ARGMAX_NONE && i != ARGMAX_NONE && !(v != v))) { best = v; idx = i; }
}
__device__ __forceinline__ void argmax_warp(float &best, int &idx) {
#pragma unroll
    for (int o = 16; o > 0; o >>= 1) {
        const float ov = __shfl_xor_sync(FULL_MASK, best, o);
        const int oi = __shfl_xor_sync(FULL_MASK, idx, o);
        argmax_take(best, idx, ov, oi);
    }
}
extern "C" __global__ void __launch_bounds__(256) dec_argmax_parts(const float *__restrict__ logits, int n, int2 *__restrict__ part) {
    pdl_launch();
    pdl_wait();
    __shared__ float bv[8];
    __shared__ int bi[8];
    const int t = blockIdx.x, p = blockIdx.y;
    const float *row = logits + (long long)t * n;
    const int per = (n + ARGMAX_PARTS - 1) / ARGMAX_PARTS, lo = p * per, hi = min(n, lo + per);
    float best = -INFINITY;
    int idx = ARGMAX_NONE;
    for (int i0 = lo + threadIdx.x; i0 < hi; i0 += 4 * 256) {
        float v[4];
#pragma unroll
        for (int u = 0; u < 4; ++u) v[u] = i0 + 256 * u < hi ? row[i0 + 256 * u] : NAN;
#pragma unroll
        for (int u = 0; u < 4; ++u) if (i0 + 256 * u < hi) argmax_take(best, idx, v[u], i0 + 256 * u);
    }
    argmax_warp(best, idx);
    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
    if (lane == 0) { bv[warp] = best; bi[warp] = idx; }
    __syncthreads();
    if (threadIdx.x == 0) {
        for (int w = 1; w < 8; ++w) argmax_take(best, idx, bv[w], bi[w]);
        part[t * ARGMAX_PARTS + p] = make_int2(__float_as_int(best), idx);
    }
}
extern "C" __global__ void __launch_bounds__(64) dec_argmax_final(const int2 *__restrict__ part, int *__restrict__ out) {
    pdl_launch();
    pdl_wait();
    __shared__ float bv[ARGMAX_PARTS / 32];
    __shared__ int bi[ARGMAX_PARTS / 32];
    const int t = blockIdx.x;
    const int2 q = part[t * ARGMAX_PARTS + threadIdx.x];
    float best = __int_as_float(q.x);
    int idx = q.y;
    argmax_warp(best, idx);
    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
    if (lane == 0) { bv[warp] = best; bi[warp] = idx; }
    __syncthreads();
    if (threadIdx.x == 0) {
        for (int w = 1; w < ARGMAX_PARTS / 32; ++w) argmax_take(best, idx, bv[w], bi[w]);
        out[t] = idx == ARGMAX_NONE ? 0 : idx;
    }
}

// The decode GEMVs' last step: each of the warp's nt token sums (one per lane, in acc) reduced over the 32 lanes and
// stored by lane 0 at y[tt * ld].
template <int NT>
__device__ __forceinline__ void warp_rows_store(const float (&acc)[NT], int nt, int lane, float *__restrict__ y, int ld) {
#pragma unroll
    for (int tt = 0; tt < NT; ++tt) {
        float v = acc[tt];
#pragma unroll
        for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(FULL_MASK, v, o);
        if (lane == 0 && tt < nt) y[(long long)tt * ld] = v;
    }
}

// Four int8 codes (one word) to fp32 without the quarter-rate I2F: byte b + 128 goes into the mantissa of 2^23 (one
// PRMT), and 2^23 + 128 comes off (one FADD); exact for every code.
__device__ __forceinline__ void i8x4_to_f32(u32 w, float (&f)[4]) {
    const u32 u = w ^ 0x80808080u;
#pragma unroll
    for (int b = 0; b < 4; ++b) f[b] = __fsub_rn(__int_as_float(__byte_perm(u, 0x4B000000u, 0x7540 + b)), 8388736.0f);
}

// ------------------------------------------------------------------------------------ float-weight GEMV
// y[t * N + r] = sum_k W[r][k] * x[t * ldx + k] for tokens t in [8 * blockIdx.z, +8), W row-major N x K in fp16
// (f16 = 1) or fp32, fp32 accumulation. One warp per row, lanes stride over k in 16-byte loads, FG_BATCH loads
// issued together per lane (4 KiB of a row in flight per warp: a decode GEMV is a stream of weights, and the
// bytes in flight set its speed). K a multiple of 8 for fp16, 4 for fp32 (the host checks).
// Grid: (ceil(N / 8), 1, ceil(M / 8)), 256 threads.
#define FG_BATCH 8
extern "C" __global__ void __launch_bounds__(256) dec_float_gemv(const void *__restrict__ W, int f16, int N, int K,
        const float *__restrict__ x, int ldx, int M, float *__restrict__ y) {
    pdl_launch();
    pdl_wait();
    const int lane = threadIdx.x & 31;
    const int r = blockIdx.x * 8 + (threadIdx.x >> 5);
    const int t0 = blockIdx.z * 8, nt = min(8, M - t0);
    if (r >= N) return;
    float acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    if (f16) {
        const uint4 *wr = (const uint4 *)((const u16 *)W + (long long)r * K);
        const int K8 = K / 8;
        for (int c0 = lane; c0 < K8; c0 += 32 * FG_BATCH) {
            uint4 w4[FG_BATCH];
#pragma unroll
            for (int u = 0; u < FG_BATCH; ++u) {
                const int c = c0 + 32 * u;
                w4[u] = c < K8 ? __ldg(wr + c) : make_uint4(0, 0, 0, 0);
            }
#pragma unroll
            for (int u = 0; u < FG_BATCH; ++u) {
                const int c = c0 + 32 * u;
                if (c >= K8) break;
                const u32 wv[4] = {w4[u].x, w4[u].y, w4[u].z, w4[u].w};
                float wf[8];
#pragma unroll
                for (int i = 0; i < 4; ++i) { wf[2 * i] = h2f((u16)(wv[i] & 0xFFFF)); wf[2 * i + 1] = h2f((u16)(wv[i] >> 16)); }
#pragma unroll
                for (int tt = 0; tt < 8; ++tt) {
                    if (tt < nt) {
                        const float4 *xr = (const float4 *)(x + (long long)(t0 + tt) * ldx + c * 8);
                        const float4 a = xr[0], b = xr[1];
                        acc[tt] += wf[0] * a.x + wf[1] * a.y + wf[2] * a.z + wf[3] * a.w + wf[4] * b.x + wf[5] * b.y + wf[6] * b.z + wf[7] * b.w;
                    }
                }
            }
        }
    } else {
        const float4 *wr = (const float4 *)((const float *)W + (long long)r * K);
        const int K4 = K / 4;
        for (int c0 = lane; c0 < K4; c0 += 32 * FG_BATCH) {
            float4 w4[FG_BATCH];
#pragma unroll
            for (int u = 0; u < FG_BATCH; ++u) {
                const int c = c0 + 32 * u;
                w4[u] = c < K4 ? __ldg(wr + c) : make_float4(0, 0, 0, 0);
            }
#pragma unroll
            for (int u = 0; u < FG_BATCH; ++u) {
                const int c = c0 + 32 * u;
                if (c >= K4) break;
#pragma unroll
                for (int tt = 0; tt < 8; ++tt) {
                    if (tt < nt) {
                        const float4 a = *(const float4 *)(x + (long long)(t0 + tt) * ldx + c * 4);
                        acc[tt] += w4[u].x * a.x + w4[u].y * a.y + w4[u].z * a.z + w4[u].w * a.w;
                    }
                }
            }
        }
    }
    warp_rows_store(acc, nt, lane, y + (long long)t0 * N + r, N);
}

// ------------------------------------------------------------------------------------------------ Q8_0 GEMV
// y[t * N + r] = sum_b d[r][b] * sum_{i<32} qs[r][32b + i] * x[t][32b + i] for tokens t in [8 * blockIdx.z, +8): a
// GGUF Q8_0 matrix as the upload splits it, int8 codes row-major (N x K bytes) and one fp16 scale per 32 codes
// (N x K/32), fp32 activations and accumulation (each half block of 16 products summed, then times its scale).
// One warp per row, 16 codes per 16-byte load, Q8_BATCH loads in flight per lane. K a multiple of 32 (host checks).
// Grid: (ceil(N / 8), 1, ceil(M / 8)), 256 threads. Serves a Q8_0 output head (what `flexq quantize` writes by default).
#define Q8_BATCH 8
extern "C" __global__ void __launch_bounds__(256) dec_q8_gemv(const uint4 *__restrict__ qs, const u16 *__restrict__ d, int N, int K,
        const float *__restrict__ x, int ldx, int M, float *__restrict__ y) {
    pdl_launch();
    const int lane = threadIdx.x & 31;
    const int r = blockIdx.x * 8 + (threadIdx.x >> 5);
    const int t0 = blockIdx.z * 8, nt = min(8, M - t0);
    if (r >= N) return;
    const int K16 = K / 16;
    const uint4 *qr = qs + (long long)r * K16;
    const u16 *dr = d + (long long)r * (K / 32);
    float acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    bool waited = false;
    for (int c0 = lane; c0 < K16; c0 += 32 * Q8_BATCH) {
        uint4 q4[Q8_BATCH];
        float sc[Q8_BATCH];
#pragma unroll
        for (int u = 0; u < Q8_BATCH; ++u) {
            const int c = c0 + 32 * u;
            q4[u] = c < K16 ? __ldg(qr + c) : make_uint4(0, 0, 0, 0);
            sc[u] = c < K16 ? h2f(__ldg(dr + (c >> 1))) : 0.0f;
        }
        if (!waited) {  // the codes are weights: their first loads are in flight before the wait for x
            pdl_wait();
            waited = true;
        }
#pragma unroll
        for (int u = 0; u < Q8_BATCH; ++u) {
            const int c = c0 + 32 * u;
            if (c >= K16) break;
            const u32 wv[4] = {q4[u].x, q4[u].y, q4[u].z, q4[u].w};
            float wf[4][4];
#pragma unroll
            for (int i = 0; i < 4; ++i) i8x4_to_f32(wv[i], wf[i]);
#pragma unroll
            for (int tt = 0; tt < 8; ++tt) {
                if (tt < nt) {
                    const float4 *xr = (const float4 *)(x + (long long)(t0 + tt) * ldx + c * 16);
                    float part = 0.0f;
#pragma unroll
                    for (int i = 0; i < 4; ++i) {
                        const float4 a = xr[i];
                        part += wf[i][0] * a.x + wf[i][1] * a.y + wf[i][2] * a.z + wf[i][3] * a.w;
                    }
                    acc[tt] += part * sc[u];
                }
            }
        }
    }
    if (!waited) pdl_wait();
    warp_rows_store(acc, nt, lane, y + (long long)t0 * N + r, N);
}

// The same product on lane-ordered codes (K a multiple of 512; Q8Linear.laneOrder, laid out by DeviceUpload.head). The
// natural order gives lane l codes 16c .. 16c+15 of its 16-byte load c, so its reads of x (64 bytes, 64 bytes apart
// from the next lane's) take 16 L1 wavefronts per warp load where contiguous reads take 4, and those wavefronts, not
// DRAM, set the natural kernel's speed. Lane order: in each span u of 512 codes, byte 16 l + 4 i + b of the span holds
// code 128 i + 4 l + b (i = 0..3 words of lane l's load, b = 0..3), so word i of every lane meets x[u*512 + 128 i +
// 4 l ..] and a warp reads 512 contiguous bytes of x per word; the span's 16 scales are stored so that scale 4 i + q
// (q = l >> 3, the block of lane l's word i) sits at 4 q + i, and each lane loads its four scales as one uint2.
// Sums: each word's four products, times its scale, added to the lane's sum; then the warp sum. Grid and block as
// dec_q8_gemv (NT = 8 tokens per block); dec_q8_gemv_lanes_m1 (NT = 1, for M = 1: with one sum per lane a block fits
// in 80 registers, three to an SM instead of two).
template <int NT>
__device__ __forceinline__ void q8_gemv_lanes(const uint4 *__restrict__ qs, const uint2 *__restrict__ d, int N, int K,
                                              const float *__restrict__ x, int ldx, int M, float *__restrict__ y) {
    pdl_launch();
    const int lane = threadIdx.x & 31;
    const int r = blockIdx.x * 8 + (threadIdx.x >> 5);
    const int t0 = blockIdx.z * NT, nt = min(NT, M - t0);
    if (r >= N) return;
    const int U = K >> 9;
    const uint4 *qr = qs + (long long)r * (K >> 4) + lane;
    const uint2 *dr = d + (long long)r * (K >> 7) + (lane >> 3);
    const float *xl = x + (long long)t0 * ldx + 4 * lane;
    float acc[NT];
#pragma unroll
    for (int tt = 0; tt < NT; ++tt) acc[tt] = 0.0f;
    bool waited = false;
    for (int u0 = 0; u0 < U; u0 += Q8_BATCH) {
        uint4 q4[Q8_BATCH];
        uint2 s4[Q8_BATCH];
#pragma unroll
        for (int b = 0; b < Q8_BATCH; ++b) {
            const int u = u0 + b;
            q4[b] = u < U ? __ldg(qr + u * 32) : make_uint4(0, 0, 0, 0);
            s4[b] = u < U ? __ldg(dr + u * 4) : make_uint2(0, 0);
        }
        if (!waited) {  // weights first, as dec_q8_gemv
            pdl_wait();
            waited = true;
        }
#pragma unroll
        for (int b = 0; b < Q8_BATCH; ++b) {
            const int u = u0 + b;
            if (u >= U) break;
            const u32 wv[4] = {q4[b].x, q4[b].y, q4[b].z, q4[b].w};
            const float sc[4] = {h2f((u16)(s4[b].x & 0xFFFF)), h2f((u16)(s4[b].x >> 16)), h2f((u16)(s4[b].y & 0xFFFF)),
                                 h2f((u16)(s4[b].y >> 16))};
            float wf[4][4];
#pragma unroll
            for (int i = 0; i < 4; ++i) i8x4_to_f32(wv[i], wf[i]);
#pragma unroll
            for (int tt = 0; tt < NT; ++tt) {
                if (tt < nt) {
                    const float *xr = xl + (long long)tt * ldx + u * 512;
#pragma unroll
                    for (int i = 0; i < 4; ++i) {
                        const float4 a = *(const float4 *)(xr + 128 * i);
                        acc[tt] += (wf[i][0] * a.x + wf[i][1] * a.y + wf[i][2] * a.z + wf[i][3] * a.w) * sc[i];
                    }
                }
            }
        }
    }
    if (!waited) pdl_wait();
    warp_rows_store(acc, nt, lane, y + (long long)t0 * N + r, N);
}
extern "C" __global__ void __launch_bounds__(256) dec_q8_gemv_lanes(const uint4 *__restrict__ qs, const uint2 *__restrict__ d, int N,
        int K, const float *__restrict__ x, int ldx, int M, float *__restrict__ y) {
    q8_gemv_lanes<8>(qs, d, N, K, x, ldx, M, y);
}
extern "C" __global__ void __launch_bounds__(256, 3) dec_q8_gemv_lanes_m1(const uint4 *__restrict__ qs, const uint2 *__restrict__ d,
        int N, int K, const float *__restrict__ x, int ldx, int M, float *__restrict__ y) {
    q8_gemv_lanes<1>(qs, d, N, K, x, ldx, M, y);
}

// Q8_0 codes and block scales -> fp16 weights (code * scale, rounded to nearest even): the fp16 copy of a Q8_0 head
// for batched forwards, row-major whatever order the codes are in (laneOrder 1: dec_q8_gemv_lanes's). n = N * K elements. Grid: ceil(n / 256).
extern "C" __global__ void __launch_bounds__(256) dec_q8_to_f16(const signed char *__restrict__ codes, const u16 *__restrict__ d,
        long long n, int laneOrder, u16 *__restrict__ out) {
    pdl_launch();
    pdl_wait();
    const long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= n) return;
    long long c = i, s = i >> 5;  // natural order
    if (laneOrder) {  // element i is code k = 128 w + 4 l + b of span i >> 9 (see dec_q8_gemv_lanes)
        const int k = (int)(i & 511), w = k >> 7, l = (k >> 2) & 31;
        c = (i & ~511LL) + 16 * l + 4 * w + (k & 3);
        s = ((i >> 9) << 4) + 4 * (l >> 3) + w;
    }
    out[i] = f2h(__fmul_rn((float)codes[c], h2f(d[s])));
}

// fp32 -> fp16 (round to nearest even), n elements: activations for cuBLAS fp16 GEMMs. Grid: ceil(n / 256).
extern "C" __global__ void __launch_bounds__(256) dec_to_f16(const float *__restrict__ x, long long n, u16 *__restrict__ out) {
    pdl_launch();
    pdl_wait();
    const long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) out[i] = f2h(x[i]);
}
