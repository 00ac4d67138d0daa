/*
 * The horizontal sums of 16 float lanes shared by the native kernels (gemm.c, gemm_bf16.c, gemv.c, gemv_q8.c,
 * llama_cpu.c), by one fixed butterfly (i + (i ^ 8), then ^ 4, ^ 2, ^ 1), so that all of them match the Vector API
 * kernels' lane-sum order (Simd.sum) bit for bit: lane_sum of one vector, lane_sums16 of 16 at once.
 */
#ifndef FLEXQ_LANE_SUMS_H
#define FLEXQ_LANE_SUMS_H
#include <immintrin.h>

/* The sum of v's 16 lanes: lane i + lane i ^ 8, then ^ 4, ^ 2, ^ 1; lane 0. */
__attribute__((target("avx512f"))) static inline float lane_sum(__m512 v) {
    v = _mm512_add_ps(v, _mm512_shuffle_f32x4(v, v, _MM_SHUFFLE(1, 0, 3, 2)));   /* i ^ 8: swap 256-bit halves */
    v = _mm512_add_ps(v, _mm512_shuffle_f32x4(v, v, _MM_SHUFFLE(2, 3, 0, 1)));   /* i ^ 4: swap 128-bit quarters */
    v = _mm512_add_ps(v, _mm512_permute_ps(v, _MM_SHUFFLE(1, 0, 3, 2)));         /* i ^ 2 */
    v = _mm512_add_ps(v, _mm512_permute_ps(v, _MM_SHUFFLE(2, 3, 0, 1)));         /* i ^ 1 */
    return _mm512_cvtss_f32(v);
}

/* Lane k = lane_sum(v[k]) for k = 0..15, with exactly the butterfly's additions. */
__attribute__((target("avx512f"))) static inline __m512 lane_sums16(const __m512 v[16]) {
    __m512 s1[8], s2[4], s3[2];
    for (int m = 0; m < 8; m++) { /* lanes < 8: v[2m] lane i + lane i ^ 8; lanes 8..15: the same for v[2m + 1] */
        s1[m] = _mm512_add_ps(_mm512_shuffle_f32x4(v[2 * m], v[2 * m + 1], _MM_SHUFFLE(1, 0, 1, 0)),
                              _mm512_shuffle_f32x4(v[2 * m], v[2 * m + 1], _MM_SHUFFLE(3, 2, 3, 2)));
    }
    for (int p = 0; p < 4; p++) { /* 128-bit chunk c: accumulator 4p + c, lanes i < 4 of i + (i ^ 4) */
        s2[p] = _mm512_add_ps(_mm512_shuffle_f32x4(s1[2 * p], s1[2 * p + 1], _MM_SHUFFLE(2, 0, 2, 0)),
                              _mm512_shuffle_f32x4(s1[2 * p], s1[2 * p + 1], _MM_SHUFFLE(3, 1, 3, 1)));
    }
    for (int q = 0; q < 2; q++) { /* chunk c: lanes 0, 1 accumulator 8q + c; lanes 2, 3 accumulator 8q + 4 + c */
        s3[q] = _mm512_add_ps(_mm512_shuffle_ps(s2[2 * q], s2[2 * q + 1], _MM_SHUFFLE(1, 0, 1, 0)),
                              _mm512_shuffle_ps(s2[2 * q], s2[2 * q + 1], _MM_SHUFFLE(3, 2, 3, 2)));
    }
    /* i + (i ^ 1): chunk c lane l = accumulator c + 4l */
    __m512 z = _mm512_add_ps(_mm512_shuffle_ps(s3[0], s3[1], _MM_SHUFFLE(2, 0, 2, 0)),
                             _mm512_shuffle_ps(s3[0], s3[1], _MM_SHUFFLE(3, 1, 3, 1)));
    const __m512i order = _mm512_set_epi32(15, 11, 7, 3, 14, 10, 6, 2, 13, 9, 5, 1, 12, 8, 4, 0);
    return _mm512_permutexvar_ps(order, z);
}

#endif
