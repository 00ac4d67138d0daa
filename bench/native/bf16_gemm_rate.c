/* The BF16 prompt GEMM with bf16 activations (runtime-adapter gemm_bf16.c, what CpuMatrix runs for BF16 prompts where
 * the CPU has AVX-512 BF16): ROWS COLS TOKENS [OFFSET]; one thread; the activations rounded once per pass, then the
 * rows in chunks of 64 (as a team's chunks); weights OFFSET bytes past a 64-byte boundary (GGUF aligns tensors to 32).
 * See README.md. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
int flexq_bf16_round(const float *x, long n, uint16_t *out);
int flexq_gemm_bf16(const uint8_t *w, long rowBytes, int cols, int r0, int r1, const uint16_t *xb, int tokens, float *y,
                    long yStride);
static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec + t.tv_nsec * 1e-9; }
int main(int argc, char **argv) {
    if (argc < 4) { fprintf(stderr, "usage: bf16_gemm_rate ROWS COLS TOKENS [OFFSET]\n"); return 2; }
    int rows = atoi(argv[1]), cols = atoi(argv[2]), tokens = atoi(argv[3]), off = argc > 4 ? atoi(argv[4]) : 32;
    uint8_t *w = (uint8_t *) aligned_alloc(64, 2L * rows * cols + 128) + off;
    float *x = aligned_alloc(64, 4L * tokens * cols), *y = aligned_alloc(64, 4L * tokens * rows);
    uint16_t *xb = aligned_alloc(64, 2L * tokens * cols + 64);
    for (long i = 0; i < (long) rows * cols; i++) {
        float f = rand() / (float) RAND_MAX - 0.5f;
        uint32_t u;
        memcpy(&u, &f, 4);
        ((uint16_t *) w)[i] = (uint16_t) (u >> 16);
    }
    for (long i = 0; i < (long) tokens * cols; i++) x[i] = rand() / (float) RAND_MAX - 0.5f;
    int it = 0; double t0 = now(), t;
    do {
        if (flexq_bf16_round(x, (long) tokens * cols, xb) != 0) { fprintf(stderr, "no AVX-512 BF16 here\n"); return 1; }
        for (int r = 0; r < rows; r += 64) {
            flexq_gemm_bf16(w, 2L * cols, cols, r, r + 64 < rows ? r + 64 : rows, xb, tokens, y, rows);
        }
        it++; t = now();
    } while (t - t0 < 1.0);
    printf("bf16 gemm %dx%d x %d tokens (weights +%d bytes): %.1f GFLOP/s\n", rows, cols, tokens, off,
           2.0 * rows * cols * tokens * it / (t - t0) / 1e9);
    return 0;
}
