/*
 * One-token matmuls (GEMV) of Q4_0 and Q6_K weights with 8-bit activations, as llama.cpp runs a decode step: the
 * token's activations are quantized once per matmul input in blocks of 32 (flexq_q8_quantize in gemm_q8.c: codes
 * q + 128, scale d_x = amax / 127), each 32-block's products of codes are summed exactly in int32 (vpdpbusd,
 * AVX-512 VNNI), and the fp32 epilogue is one fma per 32-block into 16 lane accumulators:
 *
 *   Q4_0, block j (18 bytes: fp16 d_w, 16 bytes; byte i = element i low nibble, element i + 16 high nibble):
 *     I_j = sum_i (n_i - 8) q_i   (exact)
 *     acc[j % 16] = fma((float) I_j, d_w,j * d_x,j, acc[j % 16])        (blocks ascending)
 *   Q6_K, super-block b (210 bytes: ql[128], qh[64], int8 sc[16], fp16 d), its 32-block m = 0..7 (elements 32m..):
 *     T_m = sum_{s = 2m, 2m + 1} sc_s * sum_{e in 16-block s} (u_e - 32) q_e   (exact: |T_m| < 2^24)
 *     acc[2m] = fma((float) T_m, d * d_x,8b+m, acc[2m])                 (super-blocks ascending; odd lanes stay 0)
 *   y = lane_sum(acc), the butterfly of Simd.sum (lane i + lane i ^ 8, then ^ 4, ^ 2, ^ 1)
 *
 * The Java loops of Int8Gemv are written to the same formulas, so the two give the same bits (Int8GemvTest). The
 * integer sums are those of the Q4_0 prompt GEMM (gemm_q8.c): a one-token step and a prompt see the same activation
 * codes and the same exact block sums; only the order of the fp32 epilogue additions differs (there one chain per
 * row in block order).
 *
 * How the integer sums are formed: the first operand of vpdpbusd is unsigned, so the weights go there as unsigned
 * codes (Q4_0 nibbles n in 0..15, Q6_K u in 0..63) and the activations as signed q (code ^ 0x80); the offsets come back
 * through the activations' block sums, computed once per call: sum (n - 8) q = sum n q - 8 sum q. Each 128-bit chunk
 * of a vpdpbusd result holds the 4 partial sums of one run: a Q4_0 block (4 blocks a vector: their nibble bytes
 * gathered by one word permute, the token's codes reordered to match once per call), or a Q6_K 16-block (64
 * consecutive columns a vector). Four such vectors reduce to one vector of 16 run sums by a transpose (lane 4c + l <-
 * chunk c of vector l), permuted back to run order. One thread, weights from DRAM (4096 x 4096, DecodeBandwidth):
 * Q4_0 0.87-0.91 of the read bandwidth and Q6_K about 1.0, against 0.36-0.38 for the fp32 loops of gemv.c; a first
 * Q4_0 version with two blocks a vector (masked broadcasts) and a gather of the 16 block scales reached 0.70, scalar
 * scale loads 0.81 (bench/results/cpu-vs-llamacpp.md, 2026-12-07 04:25 UTC).
 *
 * Layout: row r at w + r * rowBytes (the GGUF bytes, mapped); xq cols codes and xd cols / 32 scales of the token;
 * y[r] written for r in [r0, r1).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <immintrin.h>
#include "lane_sums.h"

#define TVNNI __attribute__((target("avx512f,avx512bw,avx512vl,avx512vnni,f16c")))

int flexq_q8_level(void);

/* Bytes ahead of the current position each row prefetches (as Q8_PREFETCH in gemv.c). */
#define Q8D_PREFETCH 32768

/* 16 run sums: out lane 4l + c = total of chunk c of p[l]; then permuted so that lane s = run s = chunk s % 4 of p[s / 4]. */
TVNNI static inline __m512i run_sums(__m512i p0, __m512i p1, __m512i p2, __m512i p3) {
    __m512i z0 = _mm512_add_epi32(_mm512_unpacklo_epi32(p0, p1), _mm512_unpackhi_epi32(p0, p1));
    __m512i z1 = _mm512_add_epi32(_mm512_unpacklo_epi32(p2, p3), _mm512_unpackhi_epi32(p2, p3));
    __m512i t = _mm512_add_epi32(_mm512_unpacklo_epi64(z0, z1), _mm512_unpackhi_epi64(z0, z1)); /* lane 4c + l */
    const __m512i order = _mm512_set_epi32(15, 11, 7, 3, 14, 10, 6, 2, 13, 9, 5, 1, 12, 8, 4, 0);
    return _mm512_permutexvar_epi32(order, t); /* lane s <- lane 4 (s % 4) + s / 4 */
}

/* Signed activation codes (code ^ 0x80) and per-run sums of q times mul, runs of len columns. Returns NULL on no memory. */
TVNNI static int8_t *prepare(const uint8_t *xq, int cols, int len, int mul, int32_t **sums) {
    size_t bytes = ((size_t) cols + 63) / 64 * 64 + 4 * ((size_t) cols / len + 16);
    int8_t *xs = aligned_alloc(64, (bytes + 63) / 64 * 64);
    if (!xs) {
        return NULL;
    }
    int32_t *s = (int32_t *) (xs + ((cols + 63) / 64) * 64);
    for (int i = 0; i < cols; i++) {
        xs[i] = (int8_t) (xq[i] ^ 0x80);
    }
    for (int k = 0; k < cols / len; k++) {
        int32_t v = 0;
        for (int i = 0; i < len; i++) {
            v += xs[k * len + i];
        }
        s[k] = v * mul;
    }
    *sums = s;
    return xs;
}

/*
 * Products of 4 consecutive Q4_0 blocks at blk (72 bytes) against xs, 128 codes in quad order (prepare_q4): chunk c of the
 * result = the 4 partial sums of block c. The 16 nibble bytes of block c are words 9c + 1 .. 9c + 8 of the 72 bytes
 * (blocks are 18 bytes, so every field is word-aligned), gathered into chunk c by one word permute.
 */
TVNNI static inline __m512i q4_quad(const uint8_t *blk, const int8_t *xs) {
    const __m512i low = _mm512_set1_epi8(0x0F);
    const __m512i idx = _mm512_set_epi16(35, 34, 33, 32, 31, 30, 29, 28, 26, 25, 24, 23, 22, 21, 20, 19,
                                         17, 16, 15, 14, 13, 12, 11, 10, 8, 7, 6, 5, 4, 3, 2, 1);
    __m512i a = _mm512_loadu_si512(blk);
    __m512i b = _mm512_maskz_loadu_epi64(0x01, blk + 64); /* bytes 64..71 only: never past the matrix */
    __m512i q = _mm512_permutex2var_epi16(a, idx, b);
    __m512i p = _mm512_dpbusd_epi32(_mm512_setzero_si512(), _mm512_and_si512(q, low), _mm512_loadu_si512(xs));
    return _mm512_dpbusd_epi32(p, _mm512_and_si512(_mm512_srli_epi16(q, 4), low), _mm512_loadu_si512(xs + 64));
}

/* The Q4_0 activations of the first `quads` 4-block quads in quad order: per 128 columns, the low halves (columns 32c..32c+15
   of block c) then the high halves (32c+16..32c+31), as q4_quad's two runs of 64 read them. */
static void prepare_q4(int8_t *xs, int quads) {
    int8_t t[128];
    for (int k = 0; k < quads; k++) {
        int8_t *x = xs + 128 * k;
        for (int c = 0; c < 4; c++) {
            memcpy(t + 16 * c, x + 32 * c, 16);
            memcpy(t + 64 + 16 * c, x + 32 * c + 16, 16);
        }
        memcpy(x, t, 128);
    }
}

/* Q4_0 (cols a multiple of 32). Returns 0, -1 without AVX-512 VNNI (and VL) or for bad shapes, -2 out of memory. */
TVNNI int flexq_gemv_q4_0_q8(const uint8_t *w, long rowBytes, int cols, int r0, int r1, const uint8_t *xq, const float *xd,
                             float *y) {
    if (flexq_q8_level() < 1 || !__builtin_cpu_supports("avx512vl") || cols % 32 != 0 || cols <= 0 || r0 < 0 || r1 < r0) {
        return -1;
    }
    int32_t *b8;
    int8_t *xs = prepare(xq, cols, 32, 8, &b8);
    if (!xs) {
        return -2;
    }
    int nb = cols / 32, groups = nb / 16, rest = nb % 16;
    prepare_q4(xs, 4 * groups);
    for (int r = r0; r < r1; r++) {
        const uint8_t *wr = w + (size_t) r * rowBytes;
        __m512 acc = _mm512_setzero_ps();
        for (int g = 0; g < groups; g++) {
            const uint8_t *gb = wr + (size_t) g * 16 * 18;
            const int8_t *gx = xs + 512 * g;
            for (int p = 0; p < 288; p += 64) {
                _mm_prefetch((const char *) (gb + p + Q8D_PREFETCH), _MM_HINT_T0);
            }
            __m512i q[4];
            for (int k = 0; k < 4; k++) { /* run c of q[k] is block 4k + c */
                q[k] = q4_quad(gb + 72 * k, gx + 128 * k);
            }
            __m512i I = _mm512_sub_epi32(run_sums(q[0], q[1], q[2], q[3]), _mm512_loadu_si512(b8 + 16 * g));
            uint16_t dh[16];
            for (int l = 0; l < 16; l++) {
                memcpy(dh + l, gb + 18 * l, 2);
            }
            __m512 dw = _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *) dh));
            __m512 s = _mm512_mul_ps(dw, _mm512_loadu_ps(xd + 16 * g));
            acc = _mm512_fmadd_ps(_mm512_cvtepi32_ps(I), s, acc);
        }
        if (rest) {
            int32_t it[16] = {0};
            float st[16] = {0};
            const __m256i low = _mm256_set1_epi8(0x0F);
            for (int l = 0; l < rest; l++) {
                int j = 16 * groups + l;
                const uint8_t *blk = wr + (size_t) j * 18;
                __m128i qb = _mm_loadu_si128((const __m128i *) (blk + 2));
                __m256i n = _mm256_and_si256(_mm256_set_m128i(_mm_srli_epi16(qb, 4), qb), low);
                __m256i p = _mm256_dpbusd_epi32(_mm256_setzero_si256(), n, _mm256_loadu_si256((const __m256i *) (xs + 32 * j)));
                __m128i h = _mm_add_epi32(_mm256_castsi256_si128(p), _mm256_extracti128_si256(p, 1));
                h = _mm_add_epi32(h, _mm_shuffle_epi32(h, _MM_SHUFFLE(1, 0, 3, 2)));
                h = _mm_add_epi32(h, _mm_shuffle_epi32(h, _MM_SHUFFLE(2, 3, 0, 1)));
                it[l] = _mm_cvtsi128_si32(h) - b8[j];
                uint16_t dh;
                memcpy(&dh, blk, 2);
                st[l] = _mm_cvtss_f32(_mm_cvtph_ps(_mm_cvtsi32_si128(dh))) * xd[j];
            }
            __mmask16 m = (__mmask16) ((1u << rest) - 1);
            acc = _mm512_mask3_fmadd_ps(_mm512_cvtepi32_ps(_mm512_loadu_si512(it)), _mm512_loadu_ps(st), acc, m);
        }
        y[r] = lane_sum(acc);
    }
    free(xs);
    return 0;
}

/* Unsigned codes u (0..63) of the 64 elements 128h + 64p .. of a Q6_K super-block (p = 0: k = 0, 1; p = 1: k = 2, 3). */
TVNNI static inline __m512i q6_codes(const uint8_t *blk, int h, int p) {
    __m512i ql = _mm512_loadu_si512(blk + 64 * h);
    __m512i qh = _mm512_broadcast_i64x4(_mm256_loadu_si256((const __m256i *) (blk + 128 + 32 * h)));
    __m512i lo, hi;
    if (p == 0) { /* k = 0: qh bits 0-1 (<< 4), k = 1 (upper 256 bits): bits 2-3 (<< 2) */
        lo = _mm512_and_si512(ql, _mm512_set1_epi8(0x0F));
        hi = _mm512_mask_slli_epi16(_mm512_slli_epi16(qh, 4), 0xFFFF0000, qh, 2);
    } else { /* k = 2: the high nibbles and qh bits 4-5, k = 3: bits 6-7 (>> 2) */
        lo = _mm512_and_si512(_mm512_srli_epi16(ql, 4), _mm512_set1_epi8(0x0F));
        hi = _mm512_mask_srli_epi16(qh, 0xFFFF0000, qh, 2);
    }
    return _mm512_or_si512(lo, _mm512_and_si512(hi, _mm512_set1_epi8(0x30)));
}

/* Q6_K (cols a multiple of 256). Returns 0, -1 without AVX-512 VNNI (and VL) or for bad shapes, -2 out of memory. */
TVNNI int flexq_gemv_q6_k_q8(const uint8_t *w, long rowBytes, int cols, int r0, int r1, const uint8_t *xq, const float *xd,
                             float *y) {
    if (flexq_q8_level() < 1 || !__builtin_cpu_supports("avx512vl") || cols % 256 != 0 || cols <= 0 || r0 < 0 || r1 < r0) {
        return -1;
    }
    int32_t *b32;
    int8_t *xs = prepare(xq, cols, 16, 32, &b32);
    if (!xs) {
        return -2;
    }
    int nsb = cols / 256;
    /* d_x of 32-block m of super-block b at lane 2m of 16 floats (odd lanes: the same, masked off) */
    float *dx2 = aligned_alloc(64, (size_t) nsb * 64); /* 16 floats a super-block */
    if (!dx2) {
        free(xs);
        return -2;
    }
    for (int i = 0; i < 16 * nsb; i++) {
        dx2[i] = xd[i / 2];
    }
    for (int r = r0; r < r1; r++) {
        const uint8_t *wr = w + (size_t) r * rowBytes;
        __m512 acc = _mm512_setzero_ps();
        for (int b = 0; b < nsb; b++) {
            const uint8_t *blk = wr + (size_t) b * 210;
            const int8_t *bx = xs + 256 * b;
            for (int p = 0; p < 256; p += 64) {
                _mm_prefetch((const char *) (blk + p + Q8D_PREFETCH), _MM_HINT_T0);
            }
            __m512i q[4];
            for (int k = 0; k < 4; k++) { /* q[k]: elements 64k.., chunk c = 16-block 4k + c */
                q[k] = _mm512_dpbusd_epi32(_mm512_setzero_si512(), q6_codes(blk, k / 2, k % 2), _mm512_loadu_si512(bx + 64 * k));
            }
            __m512i v = _mm512_sub_epi32(run_sums(q[0], q[1], q[2], q[3]), _mm512_loadu_si512(b32 + 16 * b));
            __m512i ws = _mm512_mullo_epi32(v, _mm512_cvtepi8_epi32(_mm_loadu_si128((const __m128i *) (blk + 192))));
            __m512i t = _mm512_add_epi32(ws, _mm512_shuffle_epi32(ws, _MM_PERM_CDAB)); /* lanes 2m, 2m + 1: T_m */
            uint16_t dh;
            memcpy(&dh, blk + 208, 2);
            __m512 s = _mm512_mul_ps(_mm512_set1_ps(_mm_cvtss_f32(_mm_cvtph_ps(_mm_cvtsi32_si128(dh)))), _mm512_loadu_ps(dx2 + 16 * b));
            acc = _mm512_mask3_fmadd_ps(_mm512_cvtepi32_ps(t), s, acc, 0x5555);
        }
        y[r] = lane_sum(acc);
    }
    free(dx2);
    free(xs);
    return 0;
}
