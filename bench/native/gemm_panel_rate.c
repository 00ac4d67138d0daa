/* The fp32 prompt GEMM over one decoded panel (runtime-adapter gemm.c, what CpuMatrix runs for F16/BF16/F32/Q4_0/Q6_K
 * prompts) in cache: ROWS COLS TOKENS; one thread; one 16-row x 512-column panel reused for every row block (the
 * rate of the tile loop, without the Java panel decode). See README.md. */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
int flexq_gemm_panel(const float *w, int wStride, int nr4, const float *x, long xStride, int tokens, int kn, float *acc,
                     int accStride);
static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec + t.tv_nsec * 1e-9; }
int main(int argc, char **argv) {
    if (argc < 4) { fprintf(stderr, "usage: gemm_panel_rate ROWS COLS TOKENS (COLS a multiple of 512)\n"); return 2; }
    int rows = atoi(argv[1]), cols = atoi(argv[2]), tokens = atoi(argv[3]);
    /* as CpuMatrix calls it: the panel in a Java float[] (elements 16 bytes past a 64-byte boundary at best), the
     * activations 64-byte aligned (ActivationBatch.allocate) */
    float *w = (float *) ((char *) aligned_alloc(64, 4L * 16 * 512 + 64) + 16), *x = aligned_alloc(64, 4L * tokens * cols),
          *acc = calloc((size_t) tokens * 16, 4);
    for (long i = 0; i < 16L * 512; i++) w[i] = rand() / (float) RAND_MAX;
    for (long i = 0; i < (long) tokens * cols; i++) x[i] = rand() / (float) RAND_MAX;
    int it = 0; double t0 = now(), t;
    do {
        for (int rb = 0; rb < rows; rb += 16) {
            for (int k0 = 0; k0 < cols; k0 += 512) {
                if (flexq_gemm_panel(w, 512, 16, x + k0, cols, tokens, 512, acc, 16) != 0) { fprintf(stderr, "no AVX-512F here\n"); return 1; }
            }
        }
        it++; t = now();
    } while (t - t0 < 1.0);
    printf("fp32 panel gemm %dx%d x %d tokens: %.1f GFLOP/s\n", rows, cols, tokens, 2.0 * rows * cols * tokens * it / (t - t0) / 1e9);
    return 0;
}
