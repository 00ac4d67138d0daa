/*
 * Decode-step GEMV variants at large (8B) shapes, streamed from memory: ROWS COLS RING_MB THREADS [SECONDS].
 * Weights: a ring of RING_MB (far beyond L3) of ROWS x COLS matrices, heap (MADV_NOHUGEPAGE unless HUGE=1, as a mapped
 * file's 4 KB pages) or, with FILE=path, the first RING_MB of a mapped file (the page cache, as the runtime reads a
 * GGUF). Each thread takes a contiguous half of the rows of each matrix, with a spin barrier per matrix (as the decode
 * team). Variants: a plain read (4 accumulators), the library's F16 and Q8_0 loops (gemv.c) and the rows-interleaved
 * forms (the same per-row order of operations). Prints GB/s of weights. See README.md.
 */
#define _GNU_SOURCE
#include <immintrin.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <fcntl.h>
#include <time.h>

int flexq_gemv_q8_0(const uint8_t *w, long rowBytes, int cols, int r0, int r1, const float *x, float *y);
int flexq_gemv_f16(const uint8_t *w, long rowBytes, int cols, int r0, int r1, const float *x, float *y);

static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec + t.tv_nsec * 1e-9; }

typedef int (*gemv_fn)(const uint8_t *, long, int, int, int, const float *, float *);

static __attribute__((target("avx512f"))) int plain_read(const uint8_t *w, long rb, int cols, int r0, int r1, const float *x, float *y) {
    __m512i a0 = _mm512_setzero_si512(), a1 = a0, a2 = a0, a3 = a0;
    const uint8_t *p = w + (size_t) r0 * rb, *e = w + (size_t) r1 * rb;
    for (; p + 256 <= e; p += 256) {
        a0 = _mm512_xor_si512(a0, _mm512_loadu_si512(p));
        a1 = _mm512_xor_si512(a1, _mm512_loadu_si512(p + 64));
        a2 = _mm512_xor_si512(a2, _mm512_loadu_si512(p + 128));
        a3 = _mm512_xor_si512(a3, _mm512_loadu_si512(p + 192));
    }
    a0 = _mm512_xor_si512(_mm512_xor_si512(a0, a1), _mm512_xor_si512(a2, a3));
    y[r0] = (float) _mm512_reduce_add_epi32(a0);
    return 0;
}

#define T512 __attribute__((target("avx512f,f16c")))
T512 static inline float lsum(__m512 v) {
    v = _mm512_add_ps(v, _mm512_shuffle_f32x4(v, v, _MM_SHUFFLE(1, 0, 3, 2)));
    v = _mm512_add_ps(v, _mm512_shuffle_f32x4(v, v, _MM_SHUFFLE(2, 3, 0, 1)));
    v = _mm512_add_ps(v, _mm512_permute_ps(v, _MM_SHUFFLE(1, 0, 3, 2)));
    v = _mm512_add_ps(v, _mm512_permute_ps(v, _MM_SHUFFLE(2, 3, 0, 1)));
    return _mm512_cvtss_f32(v);
}
#define LF16(p) _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *) (p)))
/* F16, R rows a pass (cols a multiple of 16): each row its own chain, the library's order */
#define F16R(R) T512 static int f16_r##R(const uint8_t *w, long rb, int cols, int r0, int r1, const float *x, float *y) { \
    int r = r0; \
    for (; r + R <= r1; r += R) { \
        const uint8_t *w0 = w + (size_t) r * rb; __m512 s[R]; \
        for (int k = 0; k < R; k++) s[k] = _mm512_setzero_ps(); \
        for (int i = 0; i < cols; i += 16) { __m512 xv = _mm512_loadu_ps(x + i); \
            for (int k = 0; k < R; k++) s[k] = _mm512_fmadd_ps(LF16(w0 + k * rb + 2 * i), xv, s[k]); } \
        for (int k = 0; k < R; k++) y[r + k] = lsum(s[k]); } \
    return r < r1 ? flexq_gemv_f16(w, rb, cols, r, r1, x, y) : 0; }
F16R(2) F16R(4)
/* the library's F16 loop before 2026-12-07: one chain a row */
T512 static int f16_1chain(const uint8_t *w, long rb, int cols, int r0, int r1, const float *x, float *y) {
    for (int r = r0; r < r1; r++) { const uint8_t *w0 = w + (size_t) r * rb; __m512 s = _mm512_setzero_ps();
        for (int i = 0; i < cols; i += 16) s = _mm512_fmadd_ps(LF16(w0 + 2 * i), _mm512_loadu_ps(x + i), s);
        y[r] = lsum(s); }
    return 0; }
static int pf_dist = 1024;
/* F16, R rows a pass with software prefetch of each row pf_dist bytes ahead */
#define F16P(R) T512 static int f16_p##R(const uint8_t *w, long rb, int cols, int r0, int r1, const float *x, float *y) { \
    int r = r0; long d = pf_dist; \
    for (; r + R <= r1; r += R) { \
        const uint8_t *w0 = w + (size_t) r * rb; __m512 s[R]; \
        for (int k = 0; k < R; k++) s[k] = _mm512_setzero_ps(); \
        for (int i = 0; i < cols; i += 32) { \
            for (int k = 0; k < R; k++) _mm_prefetch((const char *) (w0 + k * rb + 2 * i + d), _MM_HINT_T0); \
            __m512 xv = _mm512_loadu_ps(x + i), xv1 = _mm512_loadu_ps(x + i + 16); \
            for (int k = 0; k < R; k++) s[k] = _mm512_fmadd_ps(LF16(w0 + k * rb + 2 * i), xv, s[k]); \
            for (int k = 0; k < R; k++) s[k] = _mm512_fmadd_ps(LF16(w0 + k * rb + 2 * i + 32), xv1, s[k]); } \
        for (int k = 0; k < R; k++) y[r + k] = lsum(s[k]); } \
    return r < r1 ? flexq_gemv_f16(w, rb, cols, r, r1, x, y) : 0; }
F16P(1) F16P(2) F16P(4)
/* the library's F16 order (four chains) with a software prefetch pf_dist bytes ahead, one a 64-byte line */
T512 static int f16_pf4(const uint8_t *w, long rb, int cols, int r0, int r1, const float *x, float *y) {
    long d = pf_dist;
    for (int r = r0; r < r1; r++) { const uint8_t *w0 = w + (size_t) r * rb;
        __m512 a = _mm512_setzero_ps(), b = a, c = a, e = a;
        for (int i = 0; i < cols; i += 64) {
            _mm_prefetch((const char *) (w0 + 2 * i + d), _MM_HINT_T0); _mm_prefetch((const char *) (w0 + 2 * i + 64 + d), _MM_HINT_T0);
            a = _mm512_fmadd_ps(LF16(w0 + 2 * i), _mm512_loadu_ps(x + i), a);
            b = _mm512_fmadd_ps(LF16(w0 + 2 * i + 32), _mm512_loadu_ps(x + i + 16), b);
            c = _mm512_fmadd_ps(LF16(w0 + 2 * i + 64), _mm512_loadu_ps(x + i + 32), c);
            e = _mm512_fmadd_ps(LF16(w0 + 2 * i + 96), _mm512_loadu_ps(x + i + 48), e); }
        y[r] = lsum(_mm512_add_ps(_mm512_add_ps(a, b), _mm512_add_ps(c, e))); }
    return 0; }
/* not the library's order: 4 chains in one row (the ceiling of one stream) */
T512 static int f16_acc4(const uint8_t *w, long rb, int cols, int r0, int r1, const float *x, float *y) {
    for (int r = r0; r < r1; r++) { const uint8_t *w0 = w + (size_t) r * rb;
        __m512 a = _mm512_setzero_ps(), b = a, c = a, e = a;
        for (int i = 0; i < cols; i += 64) {
            a = _mm512_fmadd_ps(LF16(w0 + 2 * i), _mm512_loadu_ps(x + i), a);
            b = _mm512_fmadd_ps(LF16(w0 + 2 * i + 32), _mm512_loadu_ps(x + i + 16), b);
            c = _mm512_fmadd_ps(LF16(w0 + 2 * i + 64), _mm512_loadu_ps(x + i + 32), c);
            e = _mm512_fmadd_ps(LF16(w0 + 2 * i + 96), _mm512_loadu_ps(x + i + 48), e); }
        y[r] = lsum(_mm512_add_ps(_mm512_add_ps(a, b), _mm512_add_ps(c, e))); }
    return 0; }
/* Q8_0, R rows a pass */
#define LQ(p) _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(_mm_loadu_si128((const __m128i *) (p))))
T512 static inline float h2f(const uint8_t *p) { uint16_t h; memcpy(&h, p, 2); return _cvtsh_ss(h); }
#define Q8R(R) T512 static int q8_r##R(const uint8_t *w, long rb, int cols, int r0, int r1, const float *x, float *y) { \
    int r = r0, nb = cols / 32; \
    for (; r + R <= r1; r += R) { \
        const uint8_t *w0 = w + (size_t) r * rb; __m512 a[R]; \
        for (int k = 0; k < R; k++) a[k] = _mm512_setzero_ps(); \
        for (int b = 0; b < nb; b++) { __m512 x0 = _mm512_loadu_ps(x + 32 * b), x1 = _mm512_loadu_ps(x + 32 * b + 16); \
            for (int k = 0; k < R; k++) { const uint8_t *blk = w0 + k * rb + 34 * b; \
                __m512 sm = _mm512_fmadd_ps(LQ(blk + 2), x0, _mm512_setzero_ps()); \
                sm = _mm512_fmadd_ps(LQ(blk + 18), x1, sm); \
                a[k] = _mm512_fmadd_ps(sm, _mm512_set1_ps(h2f(blk)), a[k]); } } \
        for (int k = 0; k < R; k++) y[r + k] = lsum(a[k]); } \
    return r < r1 ? flexq_gemv_q8_0(w, rb, cols, r, r1, x, y) : 0; }
Q8R(2) Q8R(4)
/* not the library's order: A accumulators (block b into acc b % A), one row */
#define Q8A(A) T512 static int q8_acc##A(const uint8_t *w, long rb, int cols, int r0, int r1, const float *x, float *y) { \
    int nb = cols / 32; \
    for (int r = r0; r < r1; r++) { const uint8_t *w0 = w + (size_t) r * rb; __m512 a[A]; \
        for (int k = 0; k < A; k++) a[k] = _mm512_setzero_ps(); \
        for (int b = 0; b < nb; b += A) for (int k = 0; k < A; k++) { const uint8_t *blk = w0 + 34 * (b + k); \
            __m512 sm = _mm512_fmadd_ps(LQ(blk + 2), _mm512_loadu_ps(x + 32 * (b + k)), _mm512_setzero_ps()); \
            sm = _mm512_fmadd_ps(LQ(blk + 18), _mm512_loadu_ps(x + 32 * (b + k) + 16), sm); \
            a[k] = _mm512_fmadd_ps(sm, _mm512_set1_ps(h2f(blk)), a[k]); } \
        __m512 t = a[0]; for (int k = 1; k < A; k++) t = _mm512_add_ps(t, a[k]); y[r] = lsum(t); } \
    return 0; }
Q8A(2) Q8A(4)
/* the library's Q8_0 order (two accumulators, even and odd blocks) with a software prefetch pf_dist bytes ahead */
T512 static inline __m512 q8b(const uint8_t *w0, int b, const float *x, __m512 acc) {
    const uint8_t *blk = w0 + 34 * b;
    __m512 sm = _mm512_fmadd_ps(LQ(blk + 2), _mm512_loadu_ps(x + 32 * b), _mm512_setzero_ps());
    sm = _mm512_fmadd_ps(LQ(blk + 18), _mm512_loadu_ps(x + 32 * b + 16), sm);
    return _mm512_fmadd_ps(sm, _mm512_set1_ps(h2f(blk)), acc);
}
static int pf_q8 = 2048;
T512 static int q8_pf(const uint8_t *w, long rb, int cols, int r0, int r1, const float *x, float *y) {
    int nb = cols / 32, pairs = nb / 2 * 2; long d = pf_q8;
    for (int r = r0; r < r1; r++) { const uint8_t *w0 = w + (size_t) r * rb; __m512 a0 = _mm512_setzero_ps(), a1 = a0; int b = 0;
        for (; b < pairs; b += 2) { _mm_prefetch((const char *) (w0 + 34 * b + d), _MM_HINT_T0);
            a0 = q8b(w0, b, x, a0); a1 = q8b(w0, b + 1, x, a1); }
        if (b < nb) a0 = q8b(w0, b, x, a0);
        y[r] = lsum(_mm512_add_ps(a0, a1)); }
    return 0; }

static uint8_t *ring; static long mbytes, rb; static int nmat, rows, cols, nth; static double secs;
static gemv_fn fn; static float *x, *y;
static atomic_int arrived, gen, stopflag; static double t_end;

static void barrier(void) {
    int g = atomic_load(&gen);
    if (atomic_fetch_add(&arrived, 1) == nth - 1) { atomic_store(&arrived, 0); atomic_fetch_add(&gen, 1); }
    else while (atomic_load(&gen) == g) _mm_pause();
}

static long passes; static int free_run; static atomic_long free_bytes;
static void *worker(void *arg) {
    int t = (int) (long) arg;
    int r0 = rows * t / nth / 16 * 16, r1 = t == nth - 1 ? rows : rows * (t + 1) / nth / 16 * 16;
    long n = 0;
    if (free_run) { /* no barrier: each thread its own share, its own count (FREE=1) */
        while (now() < t_end) { for (int i = 0; i < nmat; i++) fn(ring + i * mbytes, rb, cols, r0, r1, x, y); n++; }
        atomic_fetch_add(&free_bytes, n * nmat * (long) (r1 - r0) * rb);
        return 0;
    }
    for (;;) {
        for (int i = 0; i < nmat; i++) { fn(ring + i * mbytes, rb, cols, r0, r1, x, y); barrier(); }
        n++;
        if (t == 0) { if (now() > t_end) atomic_store(&stopflag, 1); }
        barrier();
        if (atomic_load(&stopflag)) break;
    }
    if (t == 0) passes = n;
    return 0;
}

static double run(gemv_fn f) {
    fn = f; atomic_store(&stopflag, 0);
    /* one untimed pass */
    for (int i = 0; i < nmat; i++) f(ring + i * mbytes, rb, cols, 0, rows, x, y);
    double t0 = now(); t_end = t0 + secs;
    pthread_t th[16];
    for (int t = 0; t < nth; t++) pthread_create(&th[t], 0, worker, (void *) (long) t);
    for (int t = 0; t < nth; t++) pthread_join(th[t], 0);
    double dt = now() - t0;
    if (free_run) { double g = atomic_load(&free_bytes) / dt / 1e9; atomic_store(&free_bytes, 0); return g; }
    return (double) passes * nmat * mbytes / dt / 1e9;
}

int main(int argc, char **argv) {
    rows = atoi(argv[1]); cols = atoi(argv[2]); long ringmb = atol(argv[3]); nth = atoi(argv[4]);
    secs = argc > 5 ? atof(argv[5]) : 2;
    const char *which = getenv("ONLY"); free_run = getenv("FREE") != 0;
    for (int f16 = 1; f16 >= 0; f16--) {
        rb = f16 ? 2L * cols : cols / 32 * 34; mbytes = rb * rows;
        nmat = (int) (ringmb * 1048576 / mbytes); if (nmat < 1) nmat = 1;
        size_t total = (size_t) nmat * mbytes;
        const char *file = getenv("FILE");
        if (file) {
            int fd = open(file, O_RDONLY);
            ring = mmap(0, total, PROT_READ, MAP_SHARED, fd, 4096L * 1024 * 64);
        } else {
            ring = aligned_alloc(1 << 21, (total + (1 << 21) - 1) / (1 << 21) * (1 << 21));
            madvise(ring, total, getenv("HUGE") ? MADV_HUGEPAGE : MADV_NOHUGEPAGE);
            for (size_t j = 0; j < total; j++) ring[j] = (j % 34 < 2) ? 0x10 : (uint8_t) (j * 2654435761u >> 13);
            if (f16) for (size_t j = 1; j < total; j += 2) ring[j] &= 0x3b; /* finite halves */
        }
        x = aligned_alloc(64, 4L * cols); for (int i = 0; i < cols; i++) x[i] = 1.0f / (1 + i % 7);
        y = aligned_alloc(64, 4L * rows + 64);
        printf("%s %dx%d, %d matrices (%.0f MB), %d threads%s:", f16 ? "f16" : "q8_0", rows, cols, nmat, total / 1e6, nth,
               file ? " mapped file" : getenv("HUGE") ? " 2M pages" : " 4K pages");
        printf(" read %.1f GB/s", run(plain_read));
        if (f16) printf(", one chain %.1f GB/s", run(f16_1chain));
        printf(", kernel %.1f GB/s", run(f16 ? flexq_gemv_f16 : flexq_gemv_q8_0));
        printf(", 2 rows %.1f GB/s", run(f16 ? f16_r2 : q8_r2));
        printf(", 4 rows %.1f GB/s", run(f16 ? f16_r4 : q8_r4));
        if (f16) { printf(", 4 chains (not exact) %.1f", run(f16_acc4));
            for (pf_dist = 2048; pf_dist <= 16384; pf_dist *= 2) printf(", pf %d: %.1f", pf_dist, run(f16_pf4)); }
        if (!f16) { printf(", 2 accs (not exact) %.1f, 4 accs %.1f", run(q8_acc2), run(q8_acc4));
            for (pf_q8 = 2048; pf_q8 <= 16384; pf_q8 *= 2) printf(", pf %d: %.1f", pf_q8, run(q8_pf)); }
        printf("\n");
        fflush(stdout);
        if (file) munmap(ring, total); else free(ring);
        if (which && *which == 'f') break;
    }
}
