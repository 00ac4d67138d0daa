/*
 * Causal grouped-query attention on the CPU (AVX-512F), called from io.flexq.runtime.llama.Attention through the
 * FFM API for head sizes that are a multiple of 16. Same arithmetic as the Java path except the exponential:
 *
 *   s_j = dot(q, k_j) * scale      dot: 16-lane fused multiply-adds over the head in order, then the lanes
 *                                  summed by the butterfly of VectorMath.laneSum (i ^ 8, i ^ 4, i ^ 2, i ^ 1)
 *   a_j = e^(s_j - max) / sum_j e^(s_j - max)
 *   out = sum_j a_j v_j            16-lane fused multiply-adds, j in order (VectorMath.axpy)
 *
 * The exponential is a vectorized polynomial (below, within 2 ulp of e^x in float) instead of the scalar
 * Math.exp, and the sum of the exponentials is taken in 16 lanes: so the scores equal the Java path's, the weights
 * a_j agree with it within a few float ulps, and results are deterministic (fixed order, no threads in here).
 *
 * Layout: q and out are n rows of heads * hs floats; keys and values rows of kvHeads * hs floats, row j = position j.
 * A task is one block of qb query heads of one (token t, key/value head g) pair: index (t * kvHeads + g) * blocks + b
 * with blocks = ceil(group / qb), heads g * group + b * qb on; this call runs tasks [from, to).
 * flexq_attention_f16 reads a cache of IEEE half floats in the same layout (llama.cpp's default cache type): each
 * 16 halves widen exactly to floats (vcvtph2ps) and the arithmetic is the float one above, on half the bytes.
 * flexq_attention_f16_prompt (end of the file) runs prompts of 16 tokens and more with the tokens in the vector lanes:
 * the same formulas, each sum in another order (within float rounding of the above).
 */
#include <stdint.h>
#include <stdlib.h>
#include <immintrin.h>
#include "lane_sums.h"

#define T512 __attribute__((target("avx512f")))

int flexq_rt_level(void) {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f") ? 2 : (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) ? 1 : 0;
}

/*
 * e^x for x <= 88.3 (x = s - max <= 0 in the softmax; -g clamped to 88 in the SwiGLU): x = n ln2 + r, |r| <= ln2 / 2, e^r by a degree-6 Taylor/minimax polynomial,
 * times 2^n built in the exponent bits; x below -87.3 (e^x under the smallest normal float) gives 0.
 */
T512 static inline __m512 exp_neg(__m512 x) {
    const __m512 log2e = _mm512_set1_ps(1.44269504088896341f);
    const __m512 ln2hi = _mm512_set1_ps(0.693359375f);
    const __m512 ln2lo = _mm512_set1_ps(-2.12194440e-4f);
    __m512 n = _mm512_roundscale_ps(_mm512_mul_ps(x, log2e), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m512 r = _mm512_fnmadd_ps(n, ln2hi, x);
    r = _mm512_fnmadd_ps(n, ln2lo, r);
    __m512 p = _mm512_set1_ps(1.9875691500e-4f);
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.3981999507e-3f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(8.3334519073e-3f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(4.1665795894e-2f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.6666665459e-1f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(5.0000001201e-1f));
    __m512 r2 = _mm512_mul_ps(r, r);
    p = _mm512_fmadd_ps(p, r2, _mm512_add_ps(r, _mm512_set1_ps(1.0f)));
    __m512i e = _mm512_slli_epi32(_mm512_add_epi32(_mm512_cvtps_epi32(n), _mm512_set1_epi32(127)), 23);
    __m512 y = _mm512_mul_ps(p, _mm512_castsi512_ps(e));
    __mmask16 tiny = _mm512_cmp_ps_mask(x, _mm512_set1_ps(-87.3f), _CMP_LT_OQ);
    return _mm512_mask_blend_ps(tiny, y, _mm512_setzero_ps());
}

/*
 * SwiGLU in place, gate[i] = silu(gate[i]) * up[i] with silu(g) = g / (1 + e^-g): the Java loop's formula with
 * the vectorized exponential (e^-g for -g up to 88, where e^88 is still a finite float; beyond it g / (1 + e^88)
 * is a negative number below 1e-36 instead of -0). Returns -1 without AVX-512F.
 */
T512 int flexq_swiglu(float *gate, const float *up, long n) {
    if (flexq_rt_level() < 2) {
        return -1;
    }
    long i = 0;
    for (; i < n; i += 16) {
        __mmask16 m = n - i >= 16 ? (__mmask16) 0xFFFF : (__mmask16) ((1u << (n - i)) - 1);
        __m512 g = _mm512_maskz_loadu_ps(m, gate + i);
        __m512 x = _mm512_min_ps(_mm512_sub_ps(_mm512_setzero_ps(), g), _mm512_set1_ps(88.0f));
        __m512 e = exp_neg(x);
        __m512 r = _mm512_mul_ps(_mm512_div_ps(g, _mm512_add_ps(_mm512_set1_ps(1.0f), e)), _mm512_maskz_loadu_ps(m, up + i));
        _mm512_mask_storeu_ps(gate + i, m, r);
    }
    return 0;
}

/*
 * The scores of 16 consecutive keys (elements k0, k0 + rowStride, ...) for one query head, lane k = key k, each exactly
 * as lane_sum(fma chain over the chunks): the 16 accumulators are reduced together by a transposing tree whose
 * four steps are the butterfly's (i ^ 8, ^ 4, ^ 2, ^ 1), so every key gets the same additions in the same pairs.
 * After the tree lane 4c + l holds key c + 4l; one permutation puts key k in lane k.
 */
/* 16 cache values from element i on: floats, or halves widened exactly (f16 is a constant after inlining) */
T512 static inline __attribute__((always_inline)) __m512 ld16(const void *base, size_t i, int f16) {
    return f16 ? _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *) ((const uint16_t *) base + i)))
               : _mm512_loadu_ps((const float *) base + i);
}

/* Asks for the cache lines of one row's hs elements from element i on (PF rows ahead of use: the rows of a long
 * context come from memory, and a task's rows are too few and too scattered for the hardware prefetcher alone). */
#define PF 24
static inline __attribute__((always_inline)) void prefetch_row(const void *base, size_t i, int hs, int f16) {
    const char *p = (const char *) base + i * (f16 ? 2 : 4);
    for (int off = 0; off < hs * (f16 ? 2 : 4); off += 64) {
        _mm_prefetch(p + off, _MM_HINT_T0);
    }
}

T512 static inline __attribute__((always_inline)) __m512 scores16(const float *qp, const void *keys, size_t k0, size_t rowStride,
                                                                  int chunks, int f16) {
    __m512 v[16];
    for (int k = 0; k < 16; k++) {
        v[k] = _mm512_setzero_ps();
    }
    for (int c = 0; c < chunks; c++) {
        __m512 qc = _mm512_loadu_ps(qp + 16 * c);
        for (int k = 0; k < 16; k++) {
            v[k] = _mm512_fmadd_ps(qc, ld16(keys, k0 + k * rowStride + 16 * (size_t) c, f16), v[k]);
        }
    }
    return lane_sums16(v);  /* lane k: the score of key k */
}

/*
 * The query heads of one group are done qb at a time (qb * (hs / 16) <= 16 accumulators, or qb = 1 past head size
 * 256), so each key and value row is read once per qb heads instead of once per head; a task is one such block, so
 * that a decode step (one token, few key/value heads) still has a task for every thread. Every head keeps the order
 * of operations of the one-head loop above, whatever qb is.
 * Returns 0, -1 for a head size that is not a multiple of 16, a qb out of range or a CPU without AVX-512F, -2 when
 * out of memory.
 */
T512 static inline __attribute__((always_inline)) int attention(const float *q, int n, int pos, const void *keys,
        const void *values, size_t rowStride, size_t headStride, float *out, int heads, int kvHeads, int hs, float scale,
        int qb, int from, int to, int f16) {
    if (hs % 16 != 0 || hs <= 0 || flexq_rt_level() < 2 || kvHeads <= 0 || heads % kvHeads != 0) {
        return -1;
    }
    int qDim = heads * hs, group = heads / kvHeads, chunks = hs / 16;
    if (qb < 1 || qb > group || (chunks <= 16 ? qb * chunks > 16 : qb != 1)) {
        return -1;
    }
    int blocks = (group + qb - 1) / qb;
    size_t stride = (size_t) pos + n + 16;
    float *s = malloc(sizeof(float) * stride * (size_t) qb);
    if (!s) {
        return -2;
    }
    for (int task = from; task < to; task++) {
        int t = task / blocks / kvHeads, g = task / blocks % kvHeads, b = task % blocks;
        int length = pos + t + 1;
        size_t kvOff = g * headStride;
        { /* one block of query heads (the scope of a former loop over the group's blocks) */
            int h0 = g * group + b * qb;
            int nh = (g + 1) * group - h0 < qb ? (g + 1) * group - h0 : qb;
            const float *qp = q + (size_t) t * qDim + (size_t) h0 * hs;
            float max[16];
            for (int i = 0; i < nh; i++) {
                max[i] = -__builtin_inff();
            }
            int j = 0;
            for (; j + 16 <= length; j += 16) {
                for (int k = 0; k < 16 && j + PF + k < length; k++) {
                    prefetch_row(keys, (j + PF + k) * rowStride + kvOff, hs, f16);
                }
                for (int i = 0; i < nh; i++) {
                    __m512 z = scores16(qp + (size_t) i * hs, keys, j * rowStride + kvOff, rowStride, chunks, f16);
                    z = _mm512_mul_ps(z, _mm512_set1_ps(scale));
                    _mm512_storeu_ps(s + i * stride + j, z);
                    float m = _mm512_reduce_max_ps(z);
                    max[i] = m > max[i] ? m : max[i];
                }
            }
            for (; j < length; j++) {
                size_t kp = j * rowStride + kvOff;
                for (int i = 0; i < nh; i++) {
                    __m512 acc = _mm512_setzero_ps();
                    for (int c = 0; c < chunks; c++) {
                        acc = _mm512_fmadd_ps(_mm512_loadu_ps(qp + (size_t) i * hs + 16 * c), ld16(keys, kp + 16 * (size_t) c, f16), acc);
                    }
                    float v = lane_sum(acc) * scale;
                    s[i * stride + j] = v;
                    max[i] = v > max[i] ? v : max[i];
                }
            }
            float inv[16];
            for (int i = 0; i < nh; i++) {
                float *si = s + i * stride;
                __m512 vmax = _mm512_set1_ps(max[i]), vsum = _mm512_setzero_ps();
                int j = 0;
                for (; j + 16 <= length; j += 16) {
                    __m512 e = exp_neg(_mm512_sub_ps(_mm512_loadu_ps(si + j), vmax));
                    _mm512_storeu_ps(si + j, e);
                    vsum = _mm512_add_ps(vsum, e);
                }
                if (j < length) {
                    __mmask16 m = (__mmask16) ((1u << (length - j)) - 1);
                    __m512 e = exp_neg(_mm512_sub_ps(_mm512_maskz_loadu_ps(m, si + j), vmax));
                    e = _mm512_maskz_mov_ps(m, e);
                    _mm512_mask_storeu_ps(si + j, m, e);
                    vsum = _mm512_add_ps(vsum, e);
                }
                inv[i] = 1.0f / lane_sum(vsum);
            }
            float *op = out + (size_t) t * qDim + (size_t) h0 * hs;
            if (nh * chunks <= 16) {
                /* positions outer, every (head, chunk) accumulator in a register: one pass over the value rows */
                __m512 acc[16];
                for (int k = 0; k < nh * chunks; k++) {
                    acc[k] = _mm512_setzero_ps();
                }
                for (int jj = 0; jj < length; jj++) {
                    size_t vp = jj * rowStride + kvOff;
                    if (jj + PF < length) {
                        prefetch_row(values, (jj + PF) * rowStride + kvOff, hs, f16);
                    }
                    for (int i = 0; i < nh; i++) {
                        __m512 a = _mm512_set1_ps(s[i * stride + jj] * inv[i]);
                        for (int c = 0; c < chunks; c++) {
                            acc[i * chunks + c] = _mm512_fmadd_ps(ld16(values, vp + 16 * (size_t) c, f16), a, acc[i * chunks + c]);
                        }
                    }
                }
                for (int i = 0; i < nh; i++) {
                    for (int c = 0; c < chunks; c++) {
                        _mm512_storeu_ps(op + (size_t) i * hs + 16 * c, acc[i * chunks + c]);
                    }
                }
            } else {
                for (int i = 0; i < nh; i++) {
                    for (int c = 0; c < chunks; c++) {
                        __m512 acc = _mm512_setzero_ps();
                        size_t vp = kvOff + 16 * (size_t) c;
                        for (int jj = 0; jj < length; jj++) {
                            acc = _mm512_fmadd_ps(ld16(values, vp + jj * rowStride, f16), _mm512_set1_ps(s[i * stride + jj] * inv[i]), acc);
                        }
                        _mm512_storeu_ps(op + (size_t) i * hs + 16 * c, acc);
                    }
                }
            }
        }
    }
    free(s);
    return 0;
}

T512 int flexq_attention(const float *q, int n, int pos, const float *keys, const float *values, float *out,
                         int heads, int kvHeads, int hs, float scale, int qb, int from, int to) {
    return attention(q, n, pos, keys, values, (size_t) kvHeads * hs, (size_t) hs, out, heads, kvHeads, hs, scale, qb, from, to, 0);
}

/*
 * As flexq_attention over a cache of half floats (uint16_t bit patterns), element i of key/value head g at position
 * j at j * rowStride + g * headStride + i: the float layout is rowStride = kvHeads * hs, headStride = hs; a cache
 * with each head's rows together (headStride = rows * hs, rowStride = hs) lets a task stream one contiguous block.
 */
T512 int flexq_attention_f16(const float *q, int n, int pos, const uint16_t *keys, const uint16_t *values, long rowStride,
                             long headStride, float *out, int heads, int kvHeads, int hs, float scale, int qb, int from, int to) {
    if (rowStride < hs || headStride < hs) {
        return -1;
    }
    return attention(q, n, pos, keys, values, (size_t) rowStride, (size_t) headStride, out, heads, kvHeads, hs, scale, qb,
                     from, to, 1);
}

/*
 * A prompt's attention over a half-float cache with 16 query tokens in the lanes of a vector: a task is one key/value
 * head g and 16 consecutive tokens (task index (t / 16) * kvHeads + g), for every query head of g's group. Per task the
 * rows [0, pos + t_last + 1) of g are widened to floats once (exactly) and each query head of the group runs:
 *
 *   s_j[u] = fma chain over d = 0..hs-1 of q_u[d] * k_j[d], times scale   (lane u: token t0 + u; -inf past its causal end)
 *   m[u]   = max_j s_j[u],  e_j[u] = e^(s_j[u] - m[u]) (the polynomial above),  sum[u] = e_0[u] + e_1[u] + ... in j order
 *   a_j[u] = e_j[u] * (1 / sum[u]),  out_u[d] = fma chain over j of v_j[d] * a_j[u]
 *
 * so each token's arithmetic is the same whichever tokens share its vector (masked keys add exact zeros), and results
 * do not depend on the threads. Against the one-token loop above (decode steps, short prompts) the scores are summed in
 * another order (one chain over the head instead of 16 lane chains and the butterfly) and the exponentials in another
 * order: the same within float rounding (AttentionPathsTest bounds both against float64). The cost per key and token is
 * about 4 + 4 fused multiply-adds for head size 64 (scores, then values), where the one-token loop also spends the
 * 16-lane reduction of every score and a half-to-float conversion of every key and value element it reads.
 * Returns 0, -1 for a head size that is not a multiple of 16 or a CPU without AVX-512F, -2 when out of memory.
 */
T512 int flexq_attention_f16_prompt(const float *q, int n, int pos, const uint16_t *keys, const uint16_t *values,
                                    long rowStride, long headStride, float *out, int heads, int kvHeads, int hs, float scale,
                                    int from, int to) {
    if (hs % 16 != 0 || hs <= 0 || rowStride < hs || headStride < hs || flexq_rt_level() < 2 || kvHeads <= 0
            || heads % kvHeads != 0) {
        return -1;
    }
    int qDim = heads * hs, group = heads / kvHeads, chunks = hs / 16;
    size_t rows = (size_t) pos + n;
    /* kf, vf: rows x hs floats; st: rows x 16 (scores, then weights, j-major); qt, ot: hs x 16 */
    float *mem = aligned_alloc(64, sizeof(float) * (2 * rows * hs + rows * 16 + 2 * (size_t) hs * 16));
    if (!mem) {
        return -2;
    }
    float *kf = mem, *vf = kf + rows * hs, *st = vf + rows * hs, *qt = st + rows * 16, *ot = qt + (size_t) hs * 16;
    const __m512i lane = _mm512_set_epi32(15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0);
    const __m512 ninf = _mm512_set1_ps(-__builtin_inff());
    for (int task = from; task < to; task++) {
        int t0 = task / kvHeads * 16, g = task % kvHeads;
        int nt = n - t0 < 16 ? n - t0 : 16;
        int len = pos + t0 + nt;          /* rows the block's last token reads */
        size_t kvOff = (size_t) g * headStride;
        for (int j = 0; j < len; j++) {
            for (int c = 0; c < hs; c += 16) {
                _mm512_store_ps(kf + (size_t) j * hs + c, ld16(keys, (size_t) j * rowStride + kvOff + c, 1));
                _mm512_store_ps(vf + (size_t) j * hs + c, ld16(values, (size_t) j * rowStride + kvOff + c, 1));
            }
        }
        /* lane u may read key j while j <= pos + t0 + u */
        const __m512i last = _mm512_add_epi32(lane, _mm512_set1_epi32(pos + t0));
        for (int h = g * group; h < (g + 1) * group; h++) {
            for (int d = 0; d < hs; d++) {
                for (int u = 0; u < 16; u++) {
                    qt[d * 16 + u] = u < nt ? q[(size_t) (t0 + u) * qDim + (size_t) h * hs + d] : 0.0f;
                }
            }
            __m512 vmax = ninf;
            int j = 0;
            for (; j + 4 <= len; j += 4) {
                __m512 a0 = _mm512_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
                const float *k0 = kf + (size_t) j * hs;
                for (int d = 0; d < hs; d++) {
                    __m512 qd = _mm512_load_ps(qt + d * 16);
                    a0 = _mm512_fmadd_ps(qd, _mm512_set1_ps(k0[d]), a0);
                    a1 = _mm512_fmadd_ps(qd, _mm512_set1_ps(k0[hs + d]), a1);
                    a2 = _mm512_fmadd_ps(qd, _mm512_set1_ps(k0[2 * hs + d]), a2);
                    a3 = _mm512_fmadd_ps(qd, _mm512_set1_ps(k0[3 * hs + d]), a3);
                }
                __m512 acc[4] = {a0, a1, a2, a3};
                for (int k = 0; k < 4; k++) {
                    __mmask16 late = _mm512_cmp_epi32_mask(last, _mm512_set1_epi32(j + k), _MM_CMPINT_LT);
                    __m512 s = _mm512_mask_mov_ps(_mm512_mul_ps(acc[k], _mm512_set1_ps(scale)), late, ninf);
                    _mm512_store_ps(st + (size_t) (j + k) * 16, s);
                    vmax = _mm512_max_ps(vmax, s);
                }
            }
            for (; j < len; j++) {
                __m512 a = _mm512_setzero_ps();
                for (int d = 0; d < hs; d++) {
                    a = _mm512_fmadd_ps(_mm512_load_ps(qt + d * 16), _mm512_set1_ps(kf[(size_t) j * hs + d]), a);
                }
                __mmask16 late = _mm512_cmp_epi32_mask(last, _mm512_set1_epi32(j), _MM_CMPINT_LT);
                __m512 s = _mm512_mask_mov_ps(_mm512_mul_ps(a, _mm512_set1_ps(scale)), late, ninf);
                _mm512_store_ps(st + (size_t) j * 16, s);
                vmax = _mm512_max_ps(vmax, s);
            }
            __m512 vsum = _mm512_setzero_ps();
            for (j = 0; j < len; j++) {
                __m512 e = exp_neg(_mm512_sub_ps(_mm512_load_ps(st + (size_t) j * 16), vmax));
                _mm512_store_ps(st + (size_t) j * 16, e);
                vsum = _mm512_add_ps(vsum, e);
            }
            __m512 inv = _mm512_div_ps(_mm512_set1_ps(1.0f), vsum);
            for (j = 0; j < len; j++) {
                _mm512_store_ps(st + (size_t) j * 16, _mm512_mul_ps(_mm512_load_ps(st + (size_t) j * 16), inv));
            }
            for (int c = 0; c < chunks; c++) {
                __m512 o[16];
                for (int i = 0; i < 16; i++) {
                    o[i] = _mm512_setzero_ps();
                }
                for (j = 0; j < len; j++) {
                    __m512 a = _mm512_load_ps(st + (size_t) j * 16);
                    const float *vr = vf + (size_t) j * hs + 16 * c;
                    for (int i = 0; i < 16; i++) {
                        o[i] = _mm512_fmadd_ps(_mm512_set1_ps(vr[i]), a, o[i]);
                    }
                }
                for (int i = 0; i < 16; i++) {
                    _mm512_store_ps(ot + (size_t) (16 * c + i) * 16, o[i]);
                }
            }
            for (int u = 0; u < nt; u++) {
                float *op = out + (size_t) (t0 + u) * qDim + (size_t) h * hs;
                for (int d = 0; d < hs; d++) {
                    op[d] = ot[d * 16 + u];
                }
            }
        }
    }
    free(mem);
    return 0;
}
