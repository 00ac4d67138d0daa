/*
 * The prompt (many-token) GEMM of BF16 weights with bf16 activations, as llama.cpp multiplies BF16 on AVX-512 BF16:
 * each token's activations are rounded to bf16 once per batch (flexq_bf16_round), then vdpbf16ps adds the products of
 * pairs of bf16 values into fp32 lanes. For every (row i, token t):
 *
 *   xb[c] = bf16(x[t][c])               round to nearest, ties to even (vcvtne2ps2bf16)
 *   s = 0 (16 fp32 lanes); for each 32 columns c: s_l = s_l + w[i][c + 2l] * xb[c + 2l] + w[i][c + 2l + 1] * xb[c + 2l + 1]
 *   r = lane_sum(s)                      the butterfly of lane_sums.h
 *   for each tail column c (cols % 32): r = r + w[i][c] * xb[c]   (fp32; the product of two bf16 values is exact)
 *   y[t][i] = r
 *
 * vdpbf16ps treats bf16 subnormal inputs as zero and rounds its fp32 sums to nearest; how it rounds inside a pair is
 * the CPU's, so no Java loop reproduces these bits: the path is native only, and CpuMatrix keeps the fp32 GEMM
 * (decoded panels, bit-identical to the Vector API) where it is missing or -Dflexq.cpu.bf16Prefill=f32.
 * NativeBf16GemmTest bounds a row against float64: the activation rounding (at most 2^-8 of |x| per element) and
 * fp32 sums of cols / 16 + 4 steps.
 *
 * Layout: weights are the GGUF rows (cols bf16 values, little endian), row r at w + r * rowBytes; activations xb are
 * tokens rows of cols bf16 values; y[t * yStride + r]. Tile: 4 rows x 4 tokens (16 accumulators, 8 loads feed 16
 * vdpbf16ps of 32 columns), tokens taken 32 at a time so that their rows stay in L2 while 4 weight rows stay in L1.
 */
#include <stdint.h>
#include <immintrin.h>
#include "lane_sums.h"

#define TBF16 __attribute__((target("avx512f,avx512bw,avx512bf16")))

/* 1 when this CPU runs the functions below (AVX-512 F, BW and BF16), else 0. */
int flexq_bf16_level(void) {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512bf16");
}

/* Round to nearest even, as vcvtneps2bf16 does for every finite value; NaN stays a (quiet) NaN. */
static inline uint16_t bf16_of(float f) {
    union { float f; uint32_t u; } v = {f};
    if ((v.u & 0x7fffffffu) > 0x7f800000u) {
        return (uint16_t) ((v.u >> 16) | 0x40);
    }
    return (uint16_t) ((v.u + 0x7fffu + ((v.u >> 16) & 1)) >> 16);
}

/* n floats -> n bf16 values (round to nearest even). Returns 0, or -1 without AVX-512 BF16. */
TBF16 int flexq_bf16_round(const float *x, long n, uint16_t *out) {
    if (!flexq_bf16_level()) {
        return -1;
    }
    long i = 0;
    for (; i + 32 <= n; i += 32) {
        __m512bh b = _mm512_cvtne2ps_pbh(_mm512_loadu_ps(x + i + 16), _mm512_loadu_ps(x + i));
        _mm512_storeu_si512((void *) (out + i), (__m512i) b);
    }
    for (; i < n; i++) {
        out[i] = bf16_of(x[i]);
    }
    return 0;
}

static inline float bf16_to_float(uint16_t h) {
    union { uint32_t u; float f; } v = {(uint32_t) h << 16};
    return v.f;
}

/*
 * Rows w0..w0+nr-1 (nr <= 4) against tokens x..x+nt-1 (nt <= 4); the missing rows and tokens repeat the last one and
 * are not stored. Accumulator 4j + r is (row r, token j).
 */
TBF16 static inline void tile(const uint8_t *w, long rowBytes, int nr, const uint16_t *x, int cols, int nt, float *y,
                              long yStride) {
    const uint16_t *ws[4], *xs[4];
    for (int k = 0; k < 4; k++) {
        ws[k] = (const uint16_t *) (w + (k < nr ? k : nr - 1) * rowBytes);
        xs[k] = x + (long) (k < nt ? k : nt - 1) * cols;
    }
    __m512 a[16];
    for (int k = 0; k < 16; k++) {
        a[k] = _mm512_setzero_ps();
    }
    int body = cols / 32 * 32;
    for (int c = 0; c < body; c += 32) {
        __m512bh v0 = (__m512bh) _mm512_loadu_si512(ws[0] + c), v1 = (__m512bh) _mm512_loadu_si512(ws[1] + c),
                 v2 = (__m512bh) _mm512_loadu_si512(ws[2] + c), v3 = (__m512bh) _mm512_loadu_si512(ws[3] + c);
        for (int j = 0; j < 4; j++) {
            __m512bh xv = (__m512bh) _mm512_loadu_si512(xs[j] + c);
            a[4 * j] = _mm512_dpbf16_ps(a[4 * j], v0, xv);
            a[4 * j + 1] = _mm512_dpbf16_ps(a[4 * j + 1], v1, xv);
            a[4 * j + 2] = _mm512_dpbf16_ps(a[4 * j + 2], v2, xv);
            a[4 * j + 3] = _mm512_dpbf16_ps(a[4 * j + 3], v3, xv);
        }
    }
    __m512 sums = lane_sums16(a);
    if (nr == 4 && nt == 4 && body == cols) {
        /* token j's 4 rows are lanes 4j..4j+3: stored at once */
        for (int j = 0; j < 4; j++) {
            _mm_storeu_ps(y + j * yStride, _mm512_extractf32x4_ps(sums, 0));
            sums = _mm512_shuffle_f32x4(sums, sums, _MM_SHUFFLE(0, 3, 2, 1));
        }
        return;
    }
    float r[16];
    _mm512_storeu_ps(r, sums);
    for (int j = 0; j < nt; j++) {
        for (int i = 0; i < nr; i++) {
            float s = r[4 * j + i];
            for (int c = body; c < cols; c++) {
                s = s + bf16_to_float(ws[i][c]) * bf16_to_float(xs[j][c]);
            }
            y[j * yStride + i] = s;
        }
    }
}

/*
 * y[t * yStride + r] for rows [r0, r1) of the BF16 rows in w and every token of xb (tokens x cols bf16 values).
 * Returns 0, or -1 without AVX-512 BF16.
 */
TBF16 int flexq_gemm_bf16(const uint8_t *w, long rowBytes, int cols, int r0, int r1, const uint16_t *xb, int tokens,
                          float *y, long yStride) {
    if (!flexq_bf16_level()) {
        return -1;
    }
    for (int t0 = 0; t0 < tokens; t0 += 32) {
        int t1 = tokens - t0 < 32 ? tokens : t0 + 32;
        for (int r = r0; r < r1; r += 4) {
            int nr = r1 - r < 4 ? r1 - r : 4;
            for (int t = t0; t < t1; t += 4) {
                int nt = t1 - t < 4 ? t1 - t : 4;
                tile(w + r * rowBytes, rowBytes, nr, xb + (long) t * cols, cols, nt, y + t * yStride + r, yStride);
            }
        }
    }
    return 0;
}
