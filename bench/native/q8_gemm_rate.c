/* Q8_0 prompt GEMM with 8-bit activations (runtime-adapter gemm_q8.c) in cache: ROWS COLS TOKENS; one thread.
 * Random Q8_0 rows (scales 2^-7..2^-6 as fp16), activations uniform in [-0.5, 0.5). See README.md. */
#include <stdio.h>
#include <stdlib.h>
#include <stdint.h>
#include <string.h>
#include <time.h>
int flexq_q8_quantize(const float *x, int tokens, int cols, uint8_t *codes, float *scales);
int flexq_gemm_q8_0(const uint8_t *w, long rowBytes, int cols, int r0, int r1, const uint8_t *xq, const float *xd,
                    int tokens, float *y, long yStride);
static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec + t.tv_nsec * 1e-9; }
int main(int argc, char **argv) {
    if (argc < 4) { fprintf(stderr, "usage: q8_gemm_rate ROWS COLS TOKENS (COLS a multiple of 32)\n"); return 2; }
    int rows = atoi(argv[1]), cols = atoi(argv[2]), tokens = atoi(argv[3]);
    long rb = cols / 32 * 34;
    uint8_t *w = malloc(rows * rb);
    for (long i = 0; i < rows * rb; i++) w[i] = rand();
    for (long r = 0; r < rows; r++) for (int j = 0; j < cols / 32; j++) { uint16_t h = 0x2000 | (rand() & 0x3ff); memcpy(w + r * rb + j * 34, &h, 2); }
    float *x = malloc(4L * tokens * cols);
    for (long i = 0; i < (long) tokens * cols; i++) x[i] = rand() / (float) RAND_MAX - 0.5f;
    uint8_t *xq = malloc((long) tokens * cols); float *xd = malloc(4L * tokens * (cols / 32)); float *y = malloc(4L * rows * tokens);
    if (flexq_q8_quantize(x, tokens, cols, xq, xd) != 0) { fprintf(stderr, "no AVX-512 VNNI here\n"); return 1; }
    int it = 0; double t0 = now(), t;
    do { flexq_gemm_q8_0(w, rb, cols, 0, rows, xq, xd, tokens, y, rows); it++; t = now(); } while (t - t0 < 1.0);
    printf("q8_0 gemm %dx%d x %d tokens: %.0f us, %.1f GMAC/s\n", rows, cols, tokens, (t - t0) / it * 1e6, (double) rows * cols * tokens * it / (t - t0) / 1e9);
    it = 0; t0 = now();
    do { flexq_q8_quantize(x, tokens, cols, xq, xd); it++; t = now(); } while (t - t0 < 0.5);
    printf("activation quantization of %d x %d: %.0f us\n", tokens, cols, (t - t0) / it * 1e6);
    return 0;
}
