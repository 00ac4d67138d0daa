/*
 * One-token matmuls (GEMV) of F16, BF16, Q8_0, Q4_0 and Q6_K weights, bit-identical to the Vector API kernels with
 * 16 float lanes (io.flexq.runtime.cpu.F16Kernel, BF16Kernel, Q8_0Kernel, Q4_0Kernel, Q6_KKernel; AVX-512): every
 * row keeps their order of operations,
 *
 *   F16: s0..s3 = 0; for each 64 columns: s_k = fma(f32(w), x, s_k) for the k-th 16 of them (four independent
 *        chains); then each remaining 16 columns into s0; r = lane_sum((s0 + s1) + (s2 + s3)); tail: r = r + f32(w) * x
 *   BF16: s = 0; for each 16 columns: s = fma(f32(w), x, s);  r = lane_sum(s);  tail: r = r + f32(w) * x
 *   Q8_0: acc0 = acc1 = 0; per block of 32: sum = fma(q[0..15], x, 0); sum = fma(q[16..31], x, sum);
 *         acc = fma(sum, d, acc) with acc0 for even blocks, acc1 for odd ones; r = lane_sum(acc0 + acc1)
 *   Q4_0: as Q8_0 with one accumulator (acc = fma(sum, d, acc); r = lane_sum(acc)) and q = low nibbles - 8
 *         (elements 0..15), then high nibbles - 8 (16..31)
 *   Q6_K: per super-block of 256, w = (u - 32) * (d * scale) (one rounding each, as ggml dequantizes), two
 *         accumulators over alternate runs of 16 (s0: elements 32i..32i+15, s1: 32i+16..32i+31, i ascending),
 *         r = r + lane_sum(s0 + s1) (r from 0, super-blocks ascending)
 *
 * with lane_sum the butterfly of Simd.sum (lane i + lane i ^ 8, then ^ 4, ^ 2, ^ 1). binary16 -> fp32 (vcvtph2ps)
 * and int8 -> fp32 are exact, as in Java. One row at a time: two or four rows per pass (one x load for several
 * rows) were 1.3-2x faster with the weights in cache but 2-3x slower streaming them from memory on the development
 * machine (AMD EPYC, KVM), where a decode matmul reads them (alternating C runs, 1536 x 512, ring of 32 MB; again at
 * 4096 x 4096 over 1 GB, bench/native/gemv_rows.c). So F16 and Q8_0 break a row's FMA chain inside the row instead:
 * with one accumulator a row was one chain of dependent FMAs (4 cycles each), which held a thread at about 31 GB/s
 * (F16) and 29 GB/s (Q8_0) against a 39 GB/s read; four (F16) and two (Q8_0, with a prefetch) reach 36-38.
 *
 * Layout: row r starts at w + r * rowBytes (the GGUF bytes, mapped); x is cols floats; y[r] is written for r in [r0, r1).
 */
#include <stdint.h>
#include <string.h>
#include <immintrin.h>
#include "lane_sums.h"

#define T512 __attribute__((target("avx512f,f16c")))

int flexq_rt_level(void);

T512 static inline float half_to_float(uint16_t h) {
    return _mm_cvtss_f32(_mm_cvtph_ps(_mm_cvtsi32_si128(h)));
}

T512 static inline __m512 load_f16(const uint8_t *p) {
    return _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *) p));
}

/* Returns 0, or -1 without AVX-512F. */
T512 int flexq_gemv_f16(const uint8_t *w, long rowBytes, int cols, int r0, int r1, const float *x, float *y) {
    if (flexq_rt_level() < 2) {
        return -1;
    }
    int body4 = cols / 64 * 64, body = cols / 16 * 16;
    int r = r0;
    for (; r < r1; r++) {
        const uint8_t *w0 = w + (size_t) r * rowBytes;
        __m512 s0 = _mm512_setzero_ps(), s1 = s0, s2 = s0, s3 = s0;
        int i = 0;
        for (; i < body4; i += 64) {
            s0 = _mm512_fmadd_ps(load_f16(w0 + 2 * i), _mm512_loadu_ps(x + i), s0);
            s1 = _mm512_fmadd_ps(load_f16(w0 + 2 * i + 32), _mm512_loadu_ps(x + i + 16), s1);
            s2 = _mm512_fmadd_ps(load_f16(w0 + 2 * i + 64), _mm512_loadu_ps(x + i + 32), s2);
            s3 = _mm512_fmadd_ps(load_f16(w0 + 2 * i + 96), _mm512_loadu_ps(x + i + 48), s3);
        }
        for (; i < body; i += 16) {
            s0 = _mm512_fmadd_ps(load_f16(w0 + 2 * i), _mm512_loadu_ps(x + i), s0);
        }
        float o = lane_sum(_mm512_add_ps(_mm512_add_ps(s0, s1), _mm512_add_ps(s2, s3)));
        for (int i = body; i < cols; i++) {
            uint16_t h;
            memcpy(&h, w0 + 2 * i, 2);
            o = o + half_to_float(h) * x[i];
        }
        y[r] = o;
    }
    return 0;
}

/* acc = fma(block sum, d, acc) for block b of the row at wr */
T512 static inline __m512 q8_block(const uint8_t *wr, int b, const float *x, __m512 acc) {
    const uint8_t *blk = wr + (size_t) b * 34;
    uint16_t dh;
    memcpy(&dh, blk, 2);
    __m512 q0 = _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(_mm_loadu_si128((const __m128i *) (blk + 2))));
    __m512 q1 = _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(_mm_loadu_si128((const __m128i *) (blk + 18))));
    __m512 sum = _mm512_fmadd_ps(q0, _mm512_loadu_ps(x + 32 * b), _mm512_setzero_ps());
    sum = _mm512_fmadd_ps(q1, _mm512_loadu_ps(x + 32 * b + 16), sum);
    return _mm512_fmadd_ps(sum, _mm512_set1_ps(half_to_float(dh)), acc);
}

/*
 * Bytes ahead of the block pair being read that each pair prefetches (one 64-byte line per 68 bytes; a prefetch never
 * faults, so past the end of the matrix it is harmless). Without it one thread streamed Q8_0 rows from memory at
 * about 30 GB/s against 39 GB/s for a plain read; 8-16 KB ahead it reached 37-39 (bench/native/gemv_rows.c,
 * 2026-12-07 section of bench/results/cpu-vs-llamacpp.md).
 */
#define Q8_PREFETCH 16384

/* cols a multiple of 32 (Q8_0 rows are whole blocks). Returns 0, or -1 without AVX-512F. */
T512 int flexq_gemv_q8_0(const uint8_t *w, long rowBytes, int cols, int r0, int r1, const float *x, float *y) {
    if (flexq_rt_level() < 2 || cols % 32 != 0) {
        return -1;
    }
    int blocks = cols / 32, pairs = blocks / 2 * 2;
    int r = r0;
    for (; r < r1; r++) {
        const uint8_t *w0 = w + (size_t) r * rowBytes;
        __m512 a0 = _mm512_setzero_ps(), a1 = a0;
        int b = 0;
        for (; b < pairs; b += 2) {
            _mm_prefetch((const char *) (w0 + (size_t) b * 34 + Q8_PREFETCH), _MM_HINT_T0);
            a0 = q8_block(w0, b, x, a0);
            a1 = q8_block(w0, b + 1, x, a1);
        }
        if (b < blocks) {
            a0 = q8_block(w0, b, x, a0);
        }
        y[r] = lane_sum(_mm512_add_ps(a0, a1));
    }
    return 0;
}

T512 static inline __m512 load_bf16(const uint8_t *p) {
    __m512i v = _mm512_cvtepu16_epi32(_mm256_loadu_si256((const __m256i *) p));
    return _mm512_castsi512_ps(_mm512_slli_epi32(v, 16));
}

/* Returns 0, or -1 without AVX-512F. */
T512 int flexq_gemv_bf16(const uint8_t *w, long rowBytes, int cols, int r0, int r1, const float *x, float *y) {
    if (flexq_rt_level() < 2) {
        return -1;
    }
    int body = cols / 16 * 16;
    for (int r = r0; r < r1; r++) {
        const uint8_t *w0 = w + (size_t) r * rowBytes;
        __m512 s0 = _mm512_setzero_ps();
        for (int i = 0; i < body; i += 16) {
            s0 = _mm512_fmadd_ps(load_bf16(w0 + 2 * i), _mm512_loadu_ps(x + i), s0);
        }
        float o = lane_sum(s0);
        for (int i = body; i < cols; i++) {
            uint32_t b = (uint32_t) (w0[2 * i] | (w0[2 * i + 1] << 8)) << 16;
            float f;
            memcpy(&f, &b, 4);
            o = o + f * x[i];
        }
        y[r] = o;
    }
    return 0;
}

/* 16 signed bytes to 16 floats (exact) */
T512 static inline __m512 bytes_to_ps(__m128i q) {
    return _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(q));
}

/* Q4_0 (18-byte blocks: fp16 d, 16 bytes of nibble pairs); cols a multiple of 32. Returns 0, or -1. */
T512 int flexq_gemv_q4_0(const uint8_t *w, long rowBytes, int cols, int r0, int r1, const float *x, float *y) {
    if (flexq_rt_level() < 2 || cols % 32 != 0) {
        return -1;
    }
    int blocks = cols / 32;
    const __m128i low = _mm_set1_epi8(0x0F), eight = _mm_set1_epi8(8);
    for (int r = r0; r < r1; r++) {
        const uint8_t *w0 = w + (size_t) r * rowBytes;
        __m512 acc = _mm512_setzero_ps();
        for (int b = 0; b < blocks; b++) {
            const uint8_t *blk = w0 + (size_t) b * 18;
            uint16_t dh;
            memcpy(&dh, blk, 2);
            __m128i q = _mm_loadu_si128((const __m128i *) (blk + 2));
            __m128i lo = _mm_sub_epi8(_mm_and_si128(q, low), eight);
            __m128i hi = _mm_sub_epi8(_mm_and_si128(_mm_srli_epi16(q, 4), low), eight);
            __m512 sum = _mm512_fmadd_ps(bytes_to_ps(lo), _mm512_loadu_ps(x + 32 * b), _mm512_setzero_ps());
            sum = _mm512_fmadd_ps(bytes_to_ps(hi), _mm512_loadu_ps(x + 32 * b + 16), sum);
            acc = _mm512_fmadd_ps(sum, _mm512_set1_ps(half_to_float(dh)), acc);
        }
        y[r] = lane_sum(acc);
    }
    return 0;
}

/*
 * Q6_K (210-byte super-blocks: ql[128], qh[64], int8 scales[16], fp16 d); cols a multiple of 256. In half h, the
 * bytes at l of ql, ql + 32 and qh give the codes of elements 128h + 32k + l (k = 0..3). Returns 0, or -1.
 */
T512 int flexq_gemv_q6_k(const uint8_t *w, long rowBytes, int cols, int r0, int r1, const float *x, float *y) {
    if (flexq_rt_level() < 2 || cols % 256 != 0) {
        return -1;
    }
    int blocks = cols / 256;
    const __m128i low = _mm_set1_epi8(0x0F), b45 = _mm_set1_epi8(0x30), c32 = _mm_set1_epi8(32);
    for (int r = r0; r < r1; r++) {
        const uint8_t *w0 = w + (size_t) r * rowBytes;
        float total = 0;
        for (int b = 0; b < blocks; b++) {
            const uint8_t *blk = w0 + (size_t) b * 210;
            const int8_t *sc = (const int8_t *) (blk + 192);
            uint16_t dh;
            memcpy(&dh, blk + 208, 2);
            float d = half_to_float(dh);
            /* the 16 sub-block factors d * scale, each one fp32 product as in the Java kernel, then broadcast from L1 */
            float sd[16];
            _mm512_storeu_ps(sd, _mm512_mul_ps(_mm512_set1_ps(d), bytes_to_ps(_mm_loadu_si128((const __m128i *) sc))));
            /* read back from L1 (vbroadcastss from memory, a load): kept in a register, each factor took two
               cross-lane shuffles (vpbroadcastd + vpermps) on the shuffle port that the code widening also needs */
            __asm__ volatile("" ::: "memory");
            const float *xb = x + 256 * b;
            __m512 s[2] = {_mm512_setzero_ps(), _mm512_setzero_ps()};
            for (int h = 0; h < 2; h++) {
                for (int l = 0; l < 32; l += 16) {
                    __m128i ql = _mm_loadu_si128((const __m128i *) (blk + 64 * h + l));
                    __m128i ql2 = _mm_loadu_si128((const __m128i *) (blk + 64 * h + 32 + l));
                    __m128i qh = _mm_loadu_si128((const __m128i *) (blk + 128 + 32 * h + l));
                    __m128i q[4];
                    q[0] = _mm_or_si128(_mm_and_si128(ql, low), _mm_and_si128(_mm_slli_epi16(qh, 4), b45));
                    q[1] = _mm_or_si128(_mm_and_si128(ql2, low), _mm_and_si128(_mm_slli_epi16(qh, 2), b45));
                    q[2] = _mm_or_si128(_mm_and_si128(_mm_srli_epi16(ql, 4), low), _mm_and_si128(qh, b45));
                    q[3] = _mm_or_si128(_mm_and_si128(_mm_srli_epi16(ql2, 4), low), _mm_and_si128(_mm_srli_epi16(qh, 2), b45));
                    __m512 a = s[l / 16];
                    for (int k = 0; k < 4; k++) {
                        __m512 v = _mm512_mul_ps(bytes_to_ps(_mm_sub_epi8(q[k], c32)), _mm512_set1_ps(sd[8 * h + 2 * k + l / 16]));
                        a = _mm512_fmadd_ps(v, _mm512_loadu_ps(xb + 128 * h + 32 * k + l), a);
                    }
                    s[l / 16] = a;
                }
            }
            total = total + lane_sum(_mm512_add_ps(s[0], s[1]));
        }
        y[r] = total;
    }
    return 0;
}
