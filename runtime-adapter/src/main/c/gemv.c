/*
 * One-token matmuls (GEMV) of F16 and Q8_0 weights, bit-identical to the Vector API kernels with 16 float lanes
 * (io.flexq.runtime.cpu.F16Kernel and Q8_0Kernel, AVX-512): every row keeps their order of operations,
 *
 *   F16:  s = 0; for each 16 columns: s = fma(f32(w), x, s);  r = lane_sum(s);  tail: r = r + f32(w) * x  (no fusion)
 *   Q8_0: acc = 0; per block of 32: sum = fma(q[0..15], x, 0); sum = fma(q[16..31], x, sum); acc = fma(sum, d, acc);
 *         r = lane_sum(acc)
 *
 * with lane_sum the butterfly of Simd.sum (lane i + lane i ^ 8, then ^ 4, ^ 2, ^ 1). binary16 -> fp32 (vcvtph2ps)
 * and int8 -> fp32 are exact, as in Java. One row at a time: two or four rows per pass (one x load for several
 * rows) were 1.3-2x faster with the weights in cache but 2-3x slower streaming them from memory on the development
 * machine (AMD EPYC, KVM), where a decode matmul reads them (alternating C runs, 1536 x 512, ring of 32 MB).
 *
 * Layout: row r starts at w + r * rowBytes (the GGUF bytes, mapped); x is cols floats; y[r] is written for r in [r0, r1).
 */
#include <stdint.h>
#include <string.h>
#include <immintrin.h>

#define T512 __attribute__((target("avx512f,f16c")))

int flexq_rt_level(void);

T512 static inline float lane_sum16(__m512 v) {
    v = _mm512_add_ps(v, _mm512_shuffle_f32x4(v, v, _MM_SHUFFLE(1, 0, 3, 2)));
    v = _mm512_add_ps(v, _mm512_shuffle_f32x4(v, v, _MM_SHUFFLE(2, 3, 0, 1)));
    v = _mm512_add_ps(v, _mm512_permute_ps(v, _MM_SHUFFLE(1, 0, 3, 2)));
    v = _mm512_add_ps(v, _mm512_permute_ps(v, _MM_SHUFFLE(2, 3, 0, 1)));
    return _mm512_cvtss_f32(v);
}

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
    int body = cols / 16 * 16;
    int r = r0;
    for (; r < r1; r++) {
        const uint8_t *w0 = w + (size_t) r * rowBytes;
        __m512 s0 = _mm512_setzero_ps();
        for (int i = 0; i < body; i += 16) {
            s0 = _mm512_fmadd_ps(load_f16(w0 + 2 * i), _mm512_loadu_ps(x + i), s0);
        }
        float o = lane_sum16(s0);
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

/* cols a multiple of 32 (Q8_0 rows are whole blocks). Returns 0, or -1 without AVX-512F. */
T512 int flexq_gemv_q8_0(const uint8_t *w, long rowBytes, int cols, int r0, int r1, const float *x, float *y) {
    if (flexq_rt_level() < 2 || cols % 32 != 0) {
        return -1;
    }
    int blocks = cols / 32;
    int r = r0;
    for (; r < r1; r++) {
        const uint8_t *w0 = w + (size_t) r * rowBytes;
        __m512 a0 = _mm512_setzero_ps();
        for (int b = 0; b < blocks; b++) {
            a0 = q8_block(w0, b, x, a0);
        }
        y[r] = lane_sum16(a0);
    }
    return 0;
}
