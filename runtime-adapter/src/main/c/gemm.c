/*
 * The prompt (many-token) GEMM of io.flexq.runtime.cpu.CpuMatrix over one decoded fp32 weight panel, bit-identical
 * to its Vector API loops with 16 float lanes (Simd.dot4 / Simd.dot4x2). For every (row i, token t) pair:
 *
 *   s = 0 (16 lanes); for each 16 columns c: s = fma(w[i][c..], x[t][c..], s)
 *   r = lane_sum(s)                    the butterfly of Simd.sum: lane j + lane j ^ 8, then ^ 4, ^ 2, ^ 1
 *   for each tail column c (kn % 16): r = r + w[i][c] * x[t][c]   (a multiply, then an add: no fusion)
 *   acc[t][i] = acc[t][i] + r
 *
 * Each pair keeps that order whatever the tiling, so the tiles can be what suits the registers: 4 rows x 4 tokens,
 * 16 accumulators (6 loads feed 8 FMAs in the Java loop; 8 feed 16 here), and the 16 lane sums of a tile are taken
 * together by one transposing tree whose additions are the butterfly's (the one of the attention's scores16).
 *
 * Layout: w holds nr4 rows (a multiple of 4) of the panel, row i at w + i * wStride, kn columns each; x is token t's
 * panel columns at x + t * xStride; acc[t * accStride + i]. Tokens are taken 32 at a time (their panel columns stay
 * in L2) and, within those, 4 rows at a time (the 4 rows' panel stays in L1).
 *
 * The panel is first copied to a 64-byte aligned buffer (rows at a multiple of 16 floats) when it is not so already:
 * CpuMatrix decodes it into a Java float[], whose elements start 16 bytes (mod 64) into the array, so that every
 * 64-byte load of it spans two cache lines. The tile loop then ran at 139 GFLOP/s on one thread (4096 x 2048 x 512
 * tokens, bench/native/gemm_panel_rate.c), 161 with the loop below and 223 aligned, of the 262 GFLOP/s of 2 FMAs a
 * cycle here (AMD EPYC, Zen 5): see bench/results/cpu-vs-llamacpp.md, 2026-12-07 f16pre section. The copy moves
 * 4 * nr4 * kn bytes, against nr4 * kn * tokens FMAs, so it is made from COPY_MIN_TOKENS tokens on. F16 and BF16
 * panels skip the Java array: flexq_gemm_panel_halves widens the mapped rows straight into the aligned buffer.
 */
#include <stdint.h>
#include <string.h>
#include <immintrin.h>
#include "lane_sums.h"

#define T512 __attribute__((target("avx512f,f16c")))

int flexq_rt_level(void);


/* Below this many tokens the panel is read in place (the aligned copy would cost more than it saves). */
#define COPY_MIN_TOKENS 8
/* The aligned copy's capacity in floats: CpuMatrix's 16-row x 512-column panel (128 KiB of stack at most). */
#define COPY_FLOATS (16 * 512)

/*
 * Rows i0..i0+3 against tokens t0..t0+nt-1 (nt <= 4; the missing tokens repeat the last one and are not stored).
 * Accumulator 4j + r is (row r, token j).
 */
T512 static inline void tile4x4(const float *w, long wStride, const float *x, long xStride, int nt, int kn,
                                float *acc, int accStride) {
    const float *x0 = x, *x1 = x + (nt > 1 ? 1 : 0) * xStride, *x2 = x + (nt > 2 ? 2 : nt - 1) * xStride,
                *x3 = x + (nt > 3 ? 3 : nt - 1) * xStride;
    const float *w0 = w, *w1 = w + wStride, *w2 = w + 2 * wStride, *w3 = w + 3 * wStride;
    __m512 a[16];
    for (int k = 0; k < 16; k++) {
        a[k] = _mm512_setzero_ps();
    }
    int body = kn / 16 * 16;
    for (int c = 0; c < body; c += 16) {
        __m512 v0 = _mm512_loadu_ps(w0 + c), v1 = _mm512_loadu_ps(w1 + c), v2 = _mm512_loadu_ps(w2 + c),
               v3 = _mm512_loadu_ps(w3 + c);
        __m512 xa = _mm512_loadu_ps(x0 + c);
        a[0] = _mm512_fmadd_ps(v0, xa, a[0]);
        a[1] = _mm512_fmadd_ps(v1, xa, a[1]);
        a[2] = _mm512_fmadd_ps(v2, xa, a[2]);
        a[3] = _mm512_fmadd_ps(v3, xa, a[3]);
        __m512 xb = _mm512_loadu_ps(x1 + c);
        a[4] = _mm512_fmadd_ps(v0, xb, a[4]);
        a[5] = _mm512_fmadd_ps(v1, xb, a[5]);
        a[6] = _mm512_fmadd_ps(v2, xb, a[6]);
        a[7] = _mm512_fmadd_ps(v3, xb, a[7]);
        __m512 xc = _mm512_loadu_ps(x2 + c);
        a[8] = _mm512_fmadd_ps(v0, xc, a[8]);
        a[9] = _mm512_fmadd_ps(v1, xc, a[9]);
        a[10] = _mm512_fmadd_ps(v2, xc, a[10]);
        a[11] = _mm512_fmadd_ps(v3, xc, a[11]);
        __m512 xd = _mm512_loadu_ps(x3 + c);
        a[12] = _mm512_fmadd_ps(v0, xd, a[12]);
        a[13] = _mm512_fmadd_ps(v1, xd, a[13]);
        a[14] = _mm512_fmadd_ps(v2, xd, a[14]);
        a[15] = _mm512_fmadd_ps(v3, xd, a[15]);
    }
    __m512 r = lane_sums16(a);
    if (nt == 4 && body == kn) {
        /* token j's 4 sums are lanes 4j..4j+3: added to its 4 accumulators at once (the same 4 additions) */
        for (int j = 0; j < 4; j++) {
            __m128 *dst = (__m128 *) (acc + (long) j * accStride);
            _mm_storeu_ps((float *) dst, _mm_add_ps(_mm_loadu_ps((float *) dst), _mm512_extractf32x4_ps(r, 0)));
            r = _mm512_shuffle_f32x4(r, r, _MM_SHUFFLE(0, 3, 2, 1));
        }
        return;
    }
    float rs[16];
    _mm512_storeu_ps(rs, r);
    const float *xs[4] = {x0, x1, x2, x3};
    const float *ws[4] = {w0, w1, w2, w3};
    for (int j = 0; j < nt; j++) {
        for (int i = 0; i < 4; i++) {
            float s = rs[4 * j + i];
            for (int c = body; c < kn; c++) {
                s = s + ws[i][c] * xs[j][c];
            }
            acc[(long) j * accStride + i] = acc[(long) j * accStride + i] + s;
        }
    }
}

T512 static void panel(const float *w, long wStride, int nr4, const float *x, long xStride, int tokens, int kn,
                       float *acc, int accStride) {
    for (int t0 = 0; t0 < tokens; t0 += 32) {
        int t1 = tokens - t0 < 32 ? tokens : t0 + 32;
        for (int i = 0; i < nr4; i += 4) {
            for (int t = t0; t < t1; t += 4) {
                int nt = t1 - t < 4 ? t1 - t : 4;
                tile4x4(w + i * wStride, wStride, x + t * xStride, xStride, nt, kn, acc + (long) t * accStride + i, accStride);
            }
        }
    }
}

/* Half-precision weights whose panels are decoded here (flexq_gemm_panel_halves), by their GGUF type id. */
#define KIND_F16 1
#define KIND_BF16 30

/* n values of F16 (kind 1) or BF16 (kind 30) at src -> fp32 at dst: exact widenings, as Simd.halfToFloat / bf16ToFloat. */
T512 static void widen(int kind, const uint16_t *src, int n, float *dst) {
    int c = 0;
    for (; c + 16 <= n; c += 16) {
        __m256i h = _mm256_loadu_si256((const __m256i *) (src + c));
        _mm512_store_ps(dst + c, kind == KIND_F16 ? _mm512_cvtph_ps(h) : _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(h), 16)));
    }
    for (; c < n; c++) {
        dst[c] = kind == KIND_F16 ? _mm_cvtss_f32(_mm_cvtph_ps(_mm_cvtsi32_si128(src[c])))
                                  : _mm_cvtss_f32(_mm_castsi128_ps(_mm_cvtsi32_si128((int) src[c] << 16)));
    }
}

/*
 * flexq_gemm_panel for F16 or BF16 weights read in place (the GGUF rows, row i at wq + i * rowBytes, the panel's
 * columns from k0 on): the nr4 rows' panel is widened here into the aligned buffer instead of by CpuMatrix into a
 * Java float[] (the same fp32 values: the widening is exact), then the same tiles run. Returns 0, or -1 without
 * AVX-512F, for nr4 not a multiple of 4, another kind, or a panel of more than COPY_FLOATS / 4 columns.
 */
T512 int flexq_gemm_panel_halves(const uint8_t *wq, long rowBytes, int kind, int nr4, int k0, const float *x, long xStride,
                                 int tokens, int kn, float *acc, int accStride) {
    long stride = (kn + 15) / 16 * 16;
    if (flexq_rt_level() < 2 || nr4 % 4 != 0 || (kind != KIND_F16 && kind != KIND_BF16) || 4 * stride > COPY_FLOATS) {
        return -1;
    }
    float buf[COPY_FLOATS] __attribute__((aligned(64)));
    int rowsPerCopy = (int) (COPY_FLOATS / stride) / 4 * 4;
    for (int i0 = 0; i0 < nr4; i0 += rowsPerCopy) {
        int n = nr4 - i0 < rowsPerCopy ? nr4 - i0 : rowsPerCopy;
        for (int i = 0; i < n; i++) {
            widen(kind, (const uint16_t *) (wq + (i0 + i) * rowBytes) + k0, kn, buf + i * stride);
        }
        panel(buf, stride, n, x, xStride, tokens, kn, acc + i0, accStride);
    }
    return 0;
}

/* Returns 0, or -1 without AVX-512F or for nr4 not a multiple of 4. */
T512 int flexq_gemm_panel(const float *w, int wStride, int nr4, const float *x, long xStride, int tokens, int kn,
                          float *acc, int accStride) {
    if (flexq_rt_level() < 2 || nr4 % 4 != 0) {
        return -1;
    }
    long stride = (kn + 15) / 16 * 16;
    int aligned = (uintptr_t) w % 64 == 0 && wStride % 16 == 0;
    if (aligned || tokens < COPY_MIN_TOKENS || 4 * stride > COPY_FLOATS) {
        panel(w, wStride, nr4, x, xStride, tokens, kn, acc, accStride);
        return 0;
    }
    float buf[COPY_FLOATS] __attribute__((aligned(64)));
    int rowsPerCopy = (int) (COPY_FLOATS / stride) / 4 * 4;
    for (int i0 = 0; i0 < nr4; i0 += rowsPerCopy) {
        int n = nr4 - i0 < rowsPerCopy ? nr4 - i0 : rowsPerCopy;
        for (int i = 0; i < n; i++) {
            memcpy(buf + i * stride, w + (long) (i0 + i) * wStride, 4L * kn);
        }
        panel(buf, stride, n, x, xStride, tokens, kn, acc + i0, accStride);
    }
    return 0;
}
