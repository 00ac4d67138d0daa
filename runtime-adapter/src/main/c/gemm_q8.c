/*
 * The prompt (many-token) GEMM of Q8_0 weights with 8-bit activations, as llama.cpp multiplies Q8_0: each token's
 * activations are quantized in blocks of 32 (flexq_q8_quantize), the products of codes are summed exactly in int32
 * (vpdpbusd, AVX-512 VNNI), and each 32-block's integer sum is scaled by d_w * d_x in fp32:
 *
 *   d_x = amax / 127,  q = round-to-nearest-even(x * (1 / d_x)) in [-127, 127], stored as q + 128 (unsigned, as
 *   vpdpbusd's first operand needs); a block of amax 0 is all zeros with d_x 0; a non-finite amax gives d_x NaN.
 *   I_j = sum_{c in block j} w_c * q_c     exact: the +128 adds 128 * sum w_c, which the accumulator starts without
 *   y   = 0;  for j in order:  y = fma((float) I_j, d_w,j * d_x,j, y)
 *
 * So a row differs from the fp32 product only by the activation rounding (at most d_x / 2 per element) and the fp32
 * epilogue; NativeQ8GemmTest bounds both against float64. Q4_0 and Q6_K rows (at the end of this file) are repacked
 * into the same tiles. One-token Q4_0 and Q6_K steps (gemv_q8.c) use the same codes and the same exact block sums, in
 * another epilogue order; one-token Q8_0 steps keep the fp32 kernels.
 *
 * Weights are the GGUF rows (34-byte blocks: fp16 d, 32 int8 codes), row r at w + r * rowBytes. A worker repacks 32
 * rows at a time into the layout of the FQ6 kernel (docs/FQ6.md): per 16-row block and 32-column block, 8 steps of 64
 * bytes, a step being 4 consecutive codes of each of the 16 rows, so that one load is a 16-row x 4-column tile whose
 * 32-bit lanes are rows, and vpdpbusd against 4 broadcast activation codes adds each row's 4 products in its lane:
 * no horizontal sums. Tile: 2 row blocks x 4 tokens (8 int32 and 8 fp32 accumulators in registers).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <immintrin.h>

#define TVNNI __attribute__((target("avx512f,avx512bw,avx512vnni")))


static int vnni(void) {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vnni");
}

/* 1 when this CPU runs the functions below (AVX-512 F, BW and VNNI), else 0. */
int flexq_q8_level(void) {
    return vnni();
}

/*
 * x: tokens rows of cols floats (cols a multiple of 32) -> codes (tokens rows of cols bytes, q + 128) and scales
 * (tokens rows of cols / 32 floats). Returns 0, or -1 without AVX-512 VNNI or for cols not a multiple of 32.
 */
TVNNI int flexq_q8_quantize(const float *x, int tokens, int cols, uint8_t *codes, float *scales) {
    if (!vnni() || cols % 32 != 0) {
        return -1;
    }
    int nb = cols / 32;
    for (long t = 0; t < tokens; t++) {
        for (int j = 0; j < nb; j++) {
            const float *xp = x + t * cols + 32 * j;
            __m512 a = _mm512_loadu_ps(xp), b = _mm512_loadu_ps(xp + 16);
            float amax = _mm512_reduce_max_ps(_mm512_max_ps(_mm512_abs_ps(a), _mm512_abs_ps(b)));
            __mmask16 nan = _mm512_cmp_ps_mask(a, a, _CMP_UNORD_Q) | _mm512_cmp_ps_mask(b, b, _CMP_UNORD_Q);
            uint8_t *cp = codes + t * cols + 32 * j;
            if (nan || !(amax <= 3.4028234663852886e38f) || amax == 0.0f) {
                memset(cp, 128, 32);
                scales[t * nb + j] = amax == 0.0f && !nan ? 0.0f : __builtin_nanf("");
                continue;
            }
            float d = amax / 127.0f;
            __m512 id = _mm512_set1_ps(1.0f / d);
            const __m512 lo = _mm512_set1_ps(-127.0f), hi = _mm512_set1_ps(127.0f);
            for (int h = 0; h < 2; h++) {
                __m512 v = _mm512_mul_ps(h ? b : a, id);
                v = _mm512_min_ps(_mm512_max_ps(_mm512_roundscale_ps(v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC), lo), hi);
                __m512i q = _mm512_add_epi32(_mm512_cvtps_epi32(v), _mm512_set1_epi32(128));
                _mm_storeu_si128((__m128i *) (cp + 16 * h), _mm512_cvtepi32_epi8(q));
            }
            scales[t * nb + j] = d;
        }
    }
    return 0;
}

static inline float half_to_float(uint16_t h) {
    uint32_t sign = (uint32_t) (h >> 15) << 31, exp = (h >> 10) & 31, man = h & 1023, bits;
    if (exp == 31) {
        bits = sign | 0x7f800000u | (man << 13);
    } else if (exp != 0) {
        bits = sign | ((exp + 112) << 23) | (man << 13);
    } else {
        float f = (float) man * 0x1p-24f; /* subnormal half: exact */
        memcpy(&bits, &f, 4);
        bits |= sign;
    }
    float f;
    memcpy(&f, &bits, 4);
    return f;
}

/*
 * Rows [r, r + 16) (those below rEnd; the rest zero codes and zero scale) into one packed block: pk[(j * 8 + s) * 64 +
 * 4 l + k] = code of row r + l, column 32 j + 4 s + k; sc[j * 16 + l] = d of that row's block j; corr[j * 16 + l] =
 * -128 * the sum of its 32 codes (the accumulator's start, cancelling the activation offset). One gather per step
 * (lane l reads row l's 4 codes), the code sums by vpdpbusd against ones: a short prompt (tens of tokens) reuses each
 * packed block only that often, so the repacking has to cost little next to it.
 *
 * Q6_K (kind 2): the codes u - 32 of 32-block j = 8b + m of the row (elements 32m.. of super-block b), sc the
 * super-block's d; corr covers columns 0..15 of the block (16-block 2m) and corr1 columns 16..31 (16-block 2m + 1), and
 * isc0 / isc1 are those 16-blocks' int8 scales, which the tile applies to the two halves' exact sums.
 */
TVNNI static void repack(int kind, const uint8_t *w, long rowBytes, int nb, int r, int rEnd, uint8_t *pk, float *sc, int32_t *corr,
                         int32_t *corr1, int32_t *isc0, int32_t *isc1) {
    int q4 = kind == 1, q6 = kind == 2;
    int valid = rEnd - r < 16 ? rEnd - r : 16;
    __mmask16 m = valid >= 16 ? (__mmask16) 0xFFFF : (__mmask16) ((1u << valid) - 1);
    const __m512i rows = _mm512_mullo_epi32(_mm512_set_epi32(15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0),
                                            _mm512_set1_epi32((int) rowBytes));
    const __m512i ones = _mm512_set1_epi8(1), low = _mm512_set1_epi8(0x0F), eight = _mm512_set1_epi8(8);
    const uint8_t *base = w + (long) r * rowBytes;
    for (int j = 0; j < nb; j++) {
        const uint8_t *blk = base + (q6 ? (long) (j / 8) * 210 : (long) j * (q4 ? 18 : 34));
        int m6 = j % 8, h6 = m6 / 4, k6 = m6 % 4;
        __m512i sum = _mm512_setzero_si512(), sum1 = sum;
        for (int s = 0; s < 8; s++) {
            __m512i v;
            if (q6) {
                /* element 32 k6 + 4s + i of half h6: nibble of ql[64 h6 + 32 (k6 & 1) + 4s + i] (high for k6 >= 2), bits 2 k6 of qh */
                __m512i g = _mm512_mask_i32gather_epi32(_mm512_setzero_si512(), m, rows, blk + 64 * h6 + 32 * (k6 & 1) + 4 * s, 1);
                __m512i gh = _mm512_mask_i32gather_epi32(_mm512_setzero_si512(), m, rows, blk + 128 + 32 * h6 + 4 * s, 1);
                __m512i nib = _mm512_and_si512(k6 < 2 ? g : _mm512_srli_epi16(g, 4), low);
                __m512i hb = _mm512_slli_epi16(_mm512_and_si512(_mm512_srli_epi16(gh, 2 * k6), _mm512_set1_epi8(3)), 4);
                v = _mm512_sub_epi8(_mm512_or_si512(nib, hb), _mm512_set1_epi8(32));
                v = _mm512_maskz_mov_epi32(m, v);
            } else if (q4) {
                /* columns 4s..4s+3 are the low nibbles of bytes 4s.. (s < 4), columns 16 + 4(s - 4).. the high ones */
                __m512i g = _mm512_mask_i32gather_epi32(_mm512_setzero_si512(), m, rows, blk + 2 + 4 * (s & 3), 1);
                v = _mm512_sub_epi8(_mm512_and_si512(s < 4 ? g : _mm512_srli_epi16(g, 4), low), eight);
                v = _mm512_maskz_mov_epi32(m, v); /* rows past rEnd: zero codes, as the Q8_0 gather leaves them */
            } else {
                v = _mm512_mask_i32gather_epi32(_mm512_setzero_si512(), m, rows, blk + 2 + 4 * s, 1);
            }
            _mm512_storeu_si512(pk + ((long) j * 8 + s) * 64, v);
            if (q6 && s >= 4) {
                sum1 = _mm512_dpbusd_epi32(sum1, ones, v);
            } else {
                sum = _mm512_dpbusd_epi32(sum, ones, v);
            }
        }
        _mm512_storeu_si512(corr + j * 16, _mm512_mullo_epi32(sum, _mm512_set1_epi32(-128)));
        if (q6) {
            _mm512_storeu_si512(corr1 + j * 16, _mm512_mullo_epi32(sum1, _mm512_set1_epi32(-128)));
        }
        for (int l = 0; l < 16; l++) {
            uint16_t dh = 0;
            if (l < valid) {
                memcpy(&dh, blk + (long) l * rowBytes + (q6 ? 208 : 0), 2);
            }
            sc[j * 16 + l] = l < valid ? half_to_float(dh) : 0.0f;
            if (q6) {
                const int8_t *scales = (const int8_t *) (blk + (long) l * rowBytes + 192);
                isc0[j * 16 + l] = l < valid ? scales[2 * m6] : 0;
                isc1[j * 16 + l] = l < valid ? scales[2 * m6 + 1] : 0;
            }
        }
    }
}

/* NB packed row blocks x 4 tokens (from xq, token u at xq + u * cols; missing tokens repeat the last, nt valid). */
TVNNI static inline __attribute__((always_inline)) void tile(int NB, int q6, const uint8_t *const pk[2], const float *const sc[2],
        const int32_t *const corr[2], const int32_t *const corr1[2], const int32_t *const isc0[2], const int32_t *const isc1[2], int nb, const uint8_t *xq, const float *xd, int cols, int nt, float *y, long yStride,
        int rowsValid0, int rowsValid1) {
    const uint8_t *xs[4];
    const float *ds[4];
    for (int u = 0; u < 4; u++) {
        int uu = u < nt ? u : nt - 1;
        xs[u] = xq + (long) uu * cols;
        ds[u] = xd + (long) uu * nb;
    }
    __m512 yv[2][4];
    for (int i = 0; i < NB; i++) {
        for (int u = 0; u < 4; u++) {
            yv[i][u] = _mm512_setzero_ps();
        }
    }
    for (int j = 0; j < nb; j++) {
        __m512i acc[2][4];
        for (int i = 0; i < NB; i++) {
            __m512i c = _mm512_loadu_si512(corr[i] + 16 * j);
            for (int u = 0; u < 4; u++) {
                acc[i][u] = c;
            }
        }
        __m512i first[2][4];
        for (int s = 0; s < 8; s++) {
            if (q6 && s == 4) { /* Q6_K: the first 16-block's exact sum times its scale; the second starts from its own offset */
                for (int i = 0; i < NB; i++) {
                    __m512i sc0 = _mm512_loadu_si512(isc0[i] + 16 * j), c1 = _mm512_loadu_si512(corr1[i] + 16 * j);
                    for (int u = 0; u < 4; u++) {
                        first[i][u] = _mm512_mullo_epi32(acc[i][u], sc0);
                        acc[i][u] = c1;
                    }
                }
            }
            __m512i wv[2];
            for (int i = 0; i < NB; i++) {
                wv[i] = _mm512_loadu_si512(pk[i] + ((long) j * 8 + s) * 64);
            }
            for (int u = 0; u < 4; u++) {
                int32_t four;
                memcpy(&four, xs[u] + 32 * j + 4 * s, 4);
                __m512i xb = _mm512_set1_epi32(four);
                for (int i = 0; i < NB; i++) {
                    acc[i][u] = _mm512_dpbusd_epi32(acc[i][u], xb, wv[i]);
                }
            }
        }
        if (q6) { /* I_j = sc_2m * sum_first + sc_2m+1 * sum_second, exact (|I_j| < 2^24) */
            for (int i = 0; i < NB; i++) {
                __m512i sc1 = _mm512_loadu_si512(isc1[i] + 16 * j);
                for (int u = 0; u < 4; u++) {
                    acc[i][u] = _mm512_add_epi32(first[i][u], _mm512_mullo_epi32(acc[i][u], sc1));
                }
            }
        }
        for (int i = 0; i < NB; i++) {
            __m512 dw = _mm512_loadu_ps(sc[i] + 16 * j);
            for (int u = 0; u < 4; u++) {
                __m512 s = _mm512_mul_ps(dw, _mm512_set1_ps(ds[u][j]));
                yv[i][u] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(acc[i][u]), s, yv[i][u]);
            }
        }
    }
    for (int i = 0; i < NB; i++) {
        int valid = i == 0 ? rowsValid0 : rowsValid1;
        __mmask16 m = valid >= 16 ? (__mmask16) 0xFFFF : (__mmask16) ((1u << valid) - 1);
        for (int u = 0; u < nt; u++) {
            _mm512_mask_storeu_ps(y + (long) u * yStride + 16 * i, m, yv[i][u]);
        }
    }
}

/*
 * y[t * yStride + r] for rows r in [r0, r1) and tokens [0, tokens), from codes xq and scales xd of
 * flexq_q8_quantize (cols a multiple of 32). Returns 0, -1 without AVX-512 VNNI or for bad shapes, -2 out of memory.
 */
TVNNI static int gemm(int kind, const uint8_t *w, long rowBytes, int cols, int r0, int r1, const uint8_t *xq, const float *xd,
                      int tokens, float *y, long yStride) {
    if (!vnni() || cols % 32 != 0 || cols <= 0 || r0 < 0 || r1 < r0 || tokens < 1) {
        return -1;
    }
    int nb = cols / 32;
    size_t pkBytes = (size_t) nb * 8 * 64, scBytes = (size_t) nb * 16 * 4;
    if (kind == 2 && cols % 256 != 0) {
        return -1;
    }
    /* per packed block i: pk, then 5 arrays of nb * 16 four-byte values: sc, corr, corr1, isc0, isc1 (the last three Q6_K's) */
    uint8_t *mem = aligned_alloc(64, 2 * (pkBytes + 5 * scBytes));
    if (!mem) {
        return -2;
    }
    const uint8_t *pk[2];
    const float *sc[2];
    const int32_t *corr[2], *corr1[2], *isc0[2], *isc1[2];
    for (int i = 0; i < 2; i++) {
        uint8_t *b = mem + i * (pkBytes + 5 * scBytes);
        pk[i] = b;
        sc[i] = (const float *) (b + pkBytes);
        corr[i] = (const int32_t *) (b + pkBytes + scBytes);
        corr1[i] = (const int32_t *) (b + pkBytes + 2 * scBytes);
        isc0[i] = (const int32_t *) (b + pkBytes + 3 * scBytes);
        isc1[i] = (const int32_t *) (b + pkBytes + 4 * scBytes);
    }
    for (int r = r0; r < r1; r += 32) {
        int NB = r1 - r > 16 ? 2 : 1;
        for (int i = 0; i < NB; i++) {
            repack(kind, w, rowBytes, nb, r + 16 * i, r1, (uint8_t *) pk[i], (float *) sc[i], (int32_t *) corr[i], (int32_t *) corr1[i],
                   (int32_t *) isc0[i], (int32_t *) isc1[i]);
        }
        int v0 = r1 - r < 16 ? r1 - r : 16, v1 = r1 - r - 16 < 16 ? r1 - r - 16 : 16;
        for (int t = 0; t < tokens; t += 4) {
            int nt = tokens - t < 4 ? tokens - t : 4;
            const uint8_t *xt = xq + (long) t * cols;
            const float *dt = xd + (long) t * nb;
            float *yt = y + (long) t * yStride + r;
            if (kind == 2) {
                if (NB == 2) {
                    tile(2, 1, pk, sc, corr, corr1, isc0, isc1, nb, xt, dt, cols, nt, yt, yStride, v0, v1);
                } else {
                    tile(1, 1, pk, sc, corr, corr1, isc0, isc1, nb, xt, dt, cols, nt, yt, yStride, v0, 0);
                }
            } else if (NB == 2) {
                tile(2, 0, pk, sc, corr, corr1, isc0, isc1, nb, xt, dt, cols, nt, yt, yStride, v0, v1);
            } else {
                tile(1, 0, pk, sc, corr, corr1, isc0, isc1, nb, xt, dt, cols, nt, yt, yStride, v0, 0);
            }
        }
    }
    free(mem);
    return 0;
}

TVNNI int flexq_gemm_q8_0(const uint8_t *w, long rowBytes, int cols, int r0, int r1, const uint8_t *xq, const float *xd,
                          int tokens, float *y, long yStride) {
    return gemm(0, w, rowBytes, cols, r0, r1, xq, xd, tokens, y, yStride);
}

/*
 * The same for Q4_0 rows (18-byte blocks: fp16 d, 16 bytes whose low nibbles are columns 0..15 and high nibbles 16..31,
 * code nibble - 8): repacked into the same int8 tiles, so the products, sums and epilogue are those above, as llama.cpp
 * multiplies Q4_0 by Q8_0 activations.
 */
TVNNI int flexq_gemm_q4_0(const uint8_t *w, long rowBytes, int cols, int r0, int r1, const uint8_t *xq, const float *xd,
                          int tokens, float *y, long yStride) {
    return gemm(1, w, rowBytes, cols, r0, r1, xq, xd, tokens, y, yStride);
}

/*
 * The same for Q6_K rows (210-byte super-blocks): each 32-block's codes u - 32 (-32..31) repacked into the same int8
 * tiles, its two 16-blocks summed apart and scaled by their int8 scales in int32, then the epilogue above with d_w the
 * super-block's d: I_j = sc_2m * sum_{first 16} (u - 32) q + sc_2m+1 * sum_{second 16} (u - 32) q, the integers of the
 * one-token loop (gemv_q8.c). cols a multiple of 256.
 */
TVNNI int flexq_gemm_q6_k(const uint8_t *w, long rowBytes, int cols, int r0, int r1, const uint8_t *xq, const float *xd,
                          int tokens, float *y, long yStride) {
    return gemm(2, w, rowBytes, cols, r0, r1, xq, xd, tokens, y, yStride);
}
