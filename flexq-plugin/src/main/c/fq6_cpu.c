/*
 * flexq-cpu native kernels: the exact W6A6 / W6A8 matmul of one FQ6 matrix (docs/FQ6.md, sections 4 and 5),
 * called from Java through the FFM API (io.flexq.plugin.cpu.NativeFq6). One file, no dependencies; built by
 * flexq-plugin/build-native.sh into the jar. Both instruction-set paths live in this one library (function
 * target attributes), chosen per call; fq6_cpu_level() tells the caller what this CPU runs.
 *
 * Layout (built by the Java side, NativeFq6Layout): rows in blocks of 16, each block's codes per 128-group in
 * 32 steps of 4 columns; a step is 64 bytes, 4 consecutive columns of each of the 16 rows, stored unsigned:
 *
 *   w [((b * groups + g) * 32 + k / 4) * 64 + j * 4 + k % 4] = wcode[16 b + j][128 g + k] + 32     (0..63)
 *   sw[(b * groups + g) * 16 + j]                              = sw[16 b + j][g]
 *
 * so one 512-bit load is a (16 rows x 4 columns) tile whose 32-bit lanes are rows: vpdpbusd multiplies it by
 * the 4 activation codes of those columns broadcast to every lane, and each lane sums its row's 4 products.
 * Padding rows/columns hold code 0 (stored 32) and scale 0.
 *
 * Exactness: the offset weight w + 32 is unsigned, as vpdpbusd / vpmaddubsw need for their first operand; it
 * adds 32 * sum_k a[k] to each group sum, which starts the accumulator at -32 * asum[t][g] instead of 0 (asum: the sum of the group's activation codes). Every
 * value is an integer below 2^31 (|P| <= 128 * 63 * 128), so P[t][r][g] is exact in any order. vpmaddubsw
 * (AVX2) saturates at 16 bits, but a pair sum is at most 2 * 63 * 128 = 16128. The epilogue is the reference's:
 *
 *   y = +0.0f;  for g in 0..groups-1:  y = y + (float) P * (sw * sa)      (no fusion: -ffp-contract=off)
 *
 * Packed layout (LEVEL_AVX512_VBMI): the same steps with each row's 4 codes in 3 bytes instead of 4, 48 bytes a step,
 * 0.75 bytes a weight resident instead of 1 (decode reads every weight once, so it moves 25% fewer bytes):
 *
 *   wp[((b * groups + g) * 32 + k / 4) * 48 + 3 j + i] = byte i (little-endian) of  sum_{c<4} u(k4 + c) << 6c,
 *                                                         u(k) = wcode[16 b + j][128 g + k] + 32,  k4 = k & ~3
 *
 * and each step is widened back to the 64-byte form in registers (vpermb puts row j's 3 bytes in lane j,
 * vpmultishiftqb takes the four 6-bit fields as bytes, an AND drops the bits above them): exact, so the products,
 * partials and outputs are those of the byte layout.
 *
 * Tile: NB row blocks x NT tokens of int32 accumulators in registers, one weight load shared by NT tokens
 * and one activation broadcast by NB blocks; decode (NT = 1) uses NB = 4 and two accumulators per block (even
 * and odd steps) so that eight vpdpbusd chains hide its latency.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <immintrin.h>

#define RB 16
#define G 128
#define STEP 64
#define GROUP_BYTES (32 * STEP)
#define PSTEP 48
#define PGROUP_BYTES (32 * PSTEP)

enum { LEVEL_NONE = 0, LEVEL_AVX2 = 1, LEVEL_AVX512_VNNI = 2, LEVEL_AVX512_VBMI = 3 };

int fq6_cpu_level(void) {
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vnni")) {
        return __builtin_cpu_supports("avx512vbmi") ? LEVEL_AVX512_VBMI : LEVEL_AVX512_VNNI;
    }
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) {
        return LEVEL_AVX2;
    }
    return LEVEL_NONE;
}

/* asum[t * groups + g] = sum of the group's activation codes (-32 times it is each accumulator's start value) */
static void code_sums(const int8_t *a, int tokens, int padded, int groups, int32_t *asum) {
    for (int t = 0; t < tokens; t++) {
        for (int g = 0; g < groups; g++) {
            const int8_t *p = a + (size_t) t * padded + (size_t) g * G;
            int32_t s = 0;
            for (int k = 0; k < G; k++) {
                s += p[k];
            }
            asum[t * groups + g] = s;
        }
    }
}

/* Writes rows [16 b, 16 b + 16) of token t, clipped to [lo, hi) and to rows, from acc (16 floats): one 64-byte copy
 * for a whole block (a prompt writes 16 rows of every token this way; element by element it was half as many
 * instructions again as the block's products). */
static inline void store_rows(const float *acc, int b, int t, float *y, long ystride, int lo, int hi) {
    int r0 = b * RB;
    int from = lo > r0 ? lo : r0, to = hi < r0 + RB ? hi : r0 + RB;
    float *dst = y + (long) t * ystride + from - lo;
    if (from == r0 && to == r0 + RB) {
        memcpy(dst, acc, sizeof(float) * RB);
    } else if (from < to) {
        memcpy(dst, acc + (from - r0), sizeof(float) * (size_t) (to - from));
    }
}

static inline void store_partials(const int32_t *p, int b, int t, int g, int groups, int rows, int32_t *partials) {
    for (int j = 0; j < RB && b * RB + j < rows; j++) {
        partials[((long) t * rows + b * RB + j) * groups + g] = p[j];
    }
}

/* ---------------------------------------------------------------- AVX-512 VNNI */

#define T512 __attribute__((target("avx512f,avx512bw,avx512vnni"), always_inline)) static inline

/* acc + the dot products of w's unsigned and a's signed bytes, 4 per lane: vpdpbusd. As inline assembly with the
 * accumulator tied to the result: GCC 12's intrinsic leaves it untied, and in the tile loops below GCC then copied every
 * accumulator into a new register each step (a vmovdqa per dot product; on Intel cores they take the issue ports the
 * dot products need). The same instruction on the same operands, so the same bits. */
T512 __m512i dp512(__m512i acc, __m512i w, __m512i a) {
    __asm__("vpdpbusd %2, %1, %0" : "+v"(acc) : "v"(w), "v"(a));
    return acc;
}

/* Tile of NB blocks (from b0) x NT tokens (from t0); yacc[(i * NT + u) * 16] holds the outputs' start and end (in
 * registers between). One body,
 * two instantiations: tile512 on the byte layout, tile512p on the packed one (LOADW widens a step, GBYTES is the
 * (block, group) stride). */
#define TILE512_BODY(LOADW, GBYTES) \
    __m512 yv[4][4]; /* the running outputs in registers over the groups (yacc holds their start and their end) */ \
    for (int i = 0; i < NB; i++) { \
        for (int u = 0; u < NT; u++) { \
            yv[i][u] = _mm512_loadu_ps(yacc + (i * NT + u) * RB); \
        } \
    } \
    for (int g = 0; g < groups; g++) { \
        __m512i acc[4][4], acc2[4]; \
        for (int u = 0; u < NT; u++) { \
            __m512i start = _mm512_set1_epi32(-32 * asum[(t0 + u) * groups + g]); \
            for (int i = 0; i < NB; i++) { \
                acc[i][u] = start; \
            } \
        } \
        for (int i = 0; i < NB; i++) { \
            acc2[i] = _mm512_setzero_si512(); \
        } \
        const uint8_t *wg[4]; \
        for (int i = 0; i < NB; i++) { \
            wg[i] = w + ((size_t) (b0 + i) * groups + g) * GBYTES; \
        } \
        const int8_t *ag = a + (size_t) t0 * padded + (size_t) g * G; \
        if (NT == 1) { \
            for (int s = 0; s < 32; s += 2) { \
                __m512i x0 = _mm512_set1_epi32(*(const int32_t *) (ag + 4 * s)); \
                __m512i x1 = _mm512_set1_epi32(*(const int32_t *) (ag + 4 * s + 4)); \
                for (int i = 0; i < NB; i++) { \
                    acc[i][0] = dp512(acc[i][0], LOADW(wg[i], s), x0); \
                    acc2[i] = dp512(acc2[i], LOADW(wg[i], s + 1), x1); \
                } \
            } \
            for (int i = 0; i < NB; i++) { \
                acc[i][0] = _mm512_add_epi32(acc[i][0], acc2[i]); \
            } \
        } else { \
            for (int s = 0; s < 32; s++) { \
                __m512i wv[4]; \
                for (int i = 0; i < NB; i++) { \
                    wv[i] = LOADW(wg[i], s); \
                } \
                for (int u = 0; u < NT; u++) { \
                    __m512i x = _mm512_set1_epi32(*(const int32_t *) (ag + (size_t) u * padded + 4 * s)); \
                    for (int i = 0; i < NB; i++) { \
                        acc[i][u] = dp512(acc[i][u], wv[i], x); \
                    } \
                } \
            } \
        } \
        for (int i = 0; i < NB; i++) { \
            __m512 swv = _mm512_loadu_ps(sw + ((size_t) (b0 + i) * groups + g) * RB); \
            for (int u = 0; u < NT; u++) { \
                __m512 s = _mm512_mul_ps(swv, _mm512_set1_ps(sa[(t0 + u) * groups + g])); \
                __m512 q = _mm512_mul_ps(_mm512_cvtepi32_ps(acc[i][u]), s); \
                yv[i][u] = _mm512_add_ps(yv[i][u], q); \
                if (partials) { \
                    int32_t p[RB]; \
                    _mm512_storeu_si512(p, acc[i][u]); \
                    store_partials(p, b0 + i, t0 + u, g, groups, rows, partials); \
                } \
            } \
        } \
    } \
    for (int i = 0; i < NB; i++) { \
        for (int u = 0; u < NT; u++) { \
            _mm512_storeu_ps(yacc + (i * NT + u) * RB, yv[i][u]); \
        } \
    }

#define T512_ARGS const uint8_t *w, const float *sw, int groups, int b0, int NB, const int8_t *a, const float *sa, int t0, \
        int NT, int padded, const int32_t *asum, float *yacc, int rows, int32_t *partials
#define LOAD_BYTES(p, s) _mm512_loadu_si512((p) + (s) * STEP)
T512 void tile512(T512_ARGS) {
    TILE512_BODY(LOAD_BYTES, GROUP_BYTES)
}

#define T512P __attribute__((target("avx512f,avx512bw,avx512vnni,avx512vbmi"), always_inline)) static inline

/* One packed 48-byte step widened to the 64-byte form: lane j = row j's 4 codes + 32, one byte each. */
T512P __m512i unpack48(const uint8_t *p) {
    const __m512i idx = _mm512_set_epi8(
        47, 47, 46, 45, 44, 44, 43, 42, 41, 41, 40, 39, 38, 38, 37, 36, 35, 35, 34, 33, 32, 32, 31, 30,
        29, 29, 28, 27, 26, 26, 25, 24, 23, 23, 22, 21, 20, 20, 19, 18, 17, 17, 16, 15, 14, 14, 13, 12,
        11, 11, 10, 9, 8, 8, 7, 6, 5, 5, 4, 3, 2, 2, 1, 0);
    const __m512i shifts = _mm512_set1_epi64(0x322C2620120C0600LL);  /* bit offsets 0, 6, 12, 18, 32, 38, 44, 50 */
    __m512i v = _mm512_maskz_loadu_epi8(0x0000FFFFFFFFFFFFULL, p);
    v = _mm512_permutexvar_epi8(idx, v);
    v = _mm512_multishift_epi64_epi8(shifts, v);
    return _mm512_and_si512(v, _mm512_set1_epi8(0x3F));
}

/* Blocks [b, b + nb) of a packed matrix widened into the byte layout at out (nb * groups * GROUP_BYTES bytes): prompts
 * widen a block once and run the byte tiles over it for all their token tiles, instead of widening every step again
 * for every 4 tokens. */
__attribute__((target("avx512f,avx512bw,avx512vnni,avx512vbmi"))) static void widen_blocks(const uint8_t *w, int groups, int b,
                                                                                           int nb, uint8_t *out) {
    for (size_t s = 0; s < (size_t) nb * groups * 32; s++) {
        _mm512_storeu_si512(out + s * STEP, unpack48(w + ((size_t) b * groups * 32 + s) * PSTEP));
    }
}

#define LOAD_PACKED(p, s) unpack48((p) + (s) * PSTEP)
T512P void tile512p(T512_ARGS) {
    TILE512_BODY(LOAD_PACKED, PGROUP_BYTES)
}

/* Decode tile (one token, 4 blocks = 64 rows) with its accumulators as named variables: the general body above keeps
 * acc[4][4] in an array, which GCC left on the stack here (a store of four accumulators every 2 steps, and copies
 * between registers), about half the in-cache rate of this loop. Same products, same int32 sums (exact in any
 * order), same epilogue as TILE512_BODY with NB = 4, NT = 1; no group partials (see t512_2x4: t512_4x1g and
 * t512p_4x1g give them). */
#define DEC4_BODY(LOADW, GBYTES) \
    const int8_t *ag = a + (size_t) t0 * padded; \
    const uint8_t *w0 = w + (size_t) b0 * groups * GBYTES, *w1 = w0 + (size_t) groups * GBYTES; \
    const uint8_t *w2 = w1 + (size_t) groups * GBYTES, *w3 = w2 + (size_t) groups * GBYTES; \
    for (int g = 0; g < groups; g++, ag += G, w0 += GBYTES, w1 += GBYTES, w2 += GBYTES, w3 += GBYTES) { \
        __m512i c0 = _mm512_set1_epi32(-32 * asum[t0 * groups + g]), c1 = c0, c2 = c0, c3 = c0; \
        __m512i d0 = _mm512_setzero_si512(), d1 = d0, d2 = d0, d3 = d0; \
        for (int s = 0; s < 32; s += 2) { \
            __m512i x0 = _mm512_set1_epi32(*(const int32_t *) (ag + 4 * s)); \
            __m512i x1 = _mm512_set1_epi32(*(const int32_t *) (ag + 4 * s + 4)); \
            c0 = dp512(c0, LOADW(w0, s), x0); \
            c1 = dp512(c1, LOADW(w1, s), x0); \
            c2 = dp512(c2, LOADW(w2, s), x0); \
            c3 = dp512(c3, LOADW(w3, s), x0); \
            d0 = dp512(d0, LOADW(w0, s + 1), x1); \
            d1 = dp512(d1, LOADW(w1, s + 1), x1); \
            d2 = dp512(d2, LOADW(w2, s + 1), x1); \
            d3 = dp512(d3, LOADW(w3, s + 1), x1); \
        } \
        __m512 sav = _mm512_set1_ps(sa[t0 * groups + g]); \
        __m512i p[4] = {_mm512_add_epi32(c0, d0), _mm512_add_epi32(c1, d1), _mm512_add_epi32(c2, d2), _mm512_add_epi32(c3, d3)}; \
        for (int i = 0; i < 4; i++) { \
            __m512 sc = _mm512_mul_ps(_mm512_loadu_ps(sw + ((size_t) (b0 + i) * groups + g) * RB), sav); \
            __m512 q = _mm512_mul_ps(_mm512_cvtepi32_ps(p[i]), sc); \
            float *ya = yacc + i * RB; \
            _mm512_storeu_ps(ya, _mm512_add_ps(_mm512_loadu_ps(ya), q)); \
        } \
    }

/* The prompt tile (2 blocks = 32 rows x 4 tokens, byte layout) with its eight accumulators as named variables and no
 * group partials (a call there, for tests only, made GCC keep every value across it: all vector registers are caller-
 * saved). From the general body GCC rotated the accumulators through register copies every step (16 vmovdqa per 8 dot
 * products): on the GPU host's Intel cores FQ6 prompts were 1.2-1.4x slower than Q8_0 ones at every thread count
 * (bench/results/cpu-vs-llamacpp.md). Same products, same int32 sums, same epilogue as TILE512_BODY with NB = 2,
 * NT = 4 (t512_2x4g, which the driver takes when partials are asked for). */
#define P24_ACC(c, v, x) c = dp512(c, v, x)
#define P24_EPI(c, yv, i, u) do { \
        __m512 q = _mm512_mul_ps(_mm512_cvtepi32_ps(c), _mm512_mul_ps(sw##i, _mm512_set1_ps(sa[(t0 + u) * groups + g]))); \
        yv = _mm512_add_ps(yv, q); \
    } while (0)
__attribute__((target("avx512f,avx512bw,avx512vnni"), noinline)) static void t512_2x4(const uint8_t *w, const float *sw, int groups,
        int b0, const int8_t *a, const float *sa, int t0, int padded, const int32_t *asum, float *yacc, int rows, int32_t *partials) {
    (void) rows; (void) partials;
    __m512 y00 = _mm512_loadu_ps(yacc), y01 = _mm512_loadu_ps(yacc + RB), y02 = _mm512_loadu_ps(yacc + 2 * RB);
    __m512 y03 = _mm512_loadu_ps(yacc + 3 * RB), y10 = _mm512_loadu_ps(yacc + 4 * RB), y11 = _mm512_loadu_ps(yacc + 5 * RB);
    __m512 y12 = _mm512_loadu_ps(yacc + 6 * RB), y13 = _mm512_loadu_ps(yacc + 7 * RB);
    const uint8_t *w0 = w + (size_t) b0 * groups * GROUP_BYTES, *w1 = w0 + (size_t) groups * GROUP_BYTES;
    for (int g = 0; g < groups; g++, w0 += GROUP_BYTES, w1 += GROUP_BYTES) {
        const int8_t *a0 = a + (size_t) t0 * padded + (size_t) g * G, *a1 = a0 + padded, *a2 = a1 + padded, *a3 = a2 + padded;
        const int32_t *s4 = asum + (size_t) t0 * groups + g;
        __m512i c00 = _mm512_set1_epi32(-32 * s4[0]), c01 = _mm512_set1_epi32(-32 * s4[groups]);
        __m512i c02 = _mm512_set1_epi32(-32 * s4[2 * groups]), c03 = _mm512_set1_epi32(-32 * s4[3 * groups]);
        __m512i c10 = c00, c11 = c01, c12 = c02, c13 = c03;
        for (int s = 0; s < 32; s++) {
            __m512i v0 = _mm512_loadu_si512(w0 + s * STEP), v1 = _mm512_loadu_si512(w1 + s * STEP);
            __m512i x = _mm512_set1_epi32(*(const int32_t *) (a0 + 4 * s));
            P24_ACC(c00, v0, x); P24_ACC(c10, v1, x);
            x = _mm512_set1_epi32(*(const int32_t *) (a1 + 4 * s));
            P24_ACC(c01, v0, x); P24_ACC(c11, v1, x);
            x = _mm512_set1_epi32(*(const int32_t *) (a2 + 4 * s));
            P24_ACC(c02, v0, x); P24_ACC(c12, v1, x);
            x = _mm512_set1_epi32(*(const int32_t *) (a3 + 4 * s));
            P24_ACC(c03, v0, x); P24_ACC(c13, v1, x);
        }
        __m512 sw0 = _mm512_loadu_ps(sw + ((size_t) b0 * groups + g) * RB), sw1 = _mm512_loadu_ps(sw + ((size_t) (b0 + 1) * groups + g) * RB);
        P24_EPI(c00, y00, 0, 0); P24_EPI(c01, y01, 0, 1); P24_EPI(c02, y02, 0, 2); P24_EPI(c03, y03, 0, 3);
        P24_EPI(c10, y10, 1, 0); P24_EPI(c11, y11, 1, 1); P24_EPI(c12, y12, 1, 2); P24_EPI(c13, y13, 1, 3);
    }
    _mm512_storeu_ps(yacc, y00); _mm512_storeu_ps(yacc + RB, y01); _mm512_storeu_ps(yacc + 2 * RB, y02);
    _mm512_storeu_ps(yacc + 3 * RB, y03); _mm512_storeu_ps(yacc + 4 * RB, y10); _mm512_storeu_ps(yacc + 5 * RB, y11);
    _mm512_storeu_ps(yacc + 6 * RB, y12); _mm512_storeu_ps(yacc + 7 * RB, y13);
}

#define DEC4_FN(TARGET, NAME, LOADW, GBYTES) \
    __attribute__((target(TARGET), noinline)) static void NAME(const uint8_t *w, const float *sw, int groups, int b0, \
        const int8_t *a, const float *sa, int t0, int padded, const int32_t *asum, float *yacc, int rows, int32_t *partials) { \
        (void) rows; (void) partials; DEC4_BODY(LOADW, GBYTES) }
DEC4_FN("avx512f,avx512bw,avx512vnni", d512_4x1, LOAD_BYTES, GROUP_BYTES)
DEC4_FN("avx512f,avx512bw,avx512vnni,avx512vbmi", d512p_4x1, LOAD_PACKED, PGROUP_BYTES)

/* Fixed-shape entry points of a tile body (BODY: tile512 or tile512p, compiled for TARGET), one per (NB, NT) the driver uses. */
#define TILE_FN(TARGET, BODY, NAME, NB, NT) \
    __attribute__((target(TARGET), noinline)) static void NAME(const uint8_t *w, const float *sw, int groups, int b0, \
        const int8_t *a, const float *sa, int t0, int padded, const int32_t *asum, float *yacc, int rows, int32_t *partials) { \
        BODY(w, sw, groups, b0, NB, a, sa, t0, NT, padded, asum, yacc, rows, partials); }
#define TILE512(NAME, NB, NT) TILE_FN("avx512f,avx512bw,avx512vnni", tile512, NAME, NB, NT)
#define TILE512P(NAME, NB, NT) TILE_FN("avx512f,avx512bw,avx512vnni,avx512vbmi", tile512p, NAME, NB, NT)

TILE512(t512_1x1, 1, 1)
TILE512(t512_2x4g, 2, 4)
TILE512(t512_4x1g, 4, 1)
TILE512P(t512p_4x1g, 4, 1)
TILE512(t512_1x4, 1, 4)
TILE512(t512_2x1, 2, 1)
TILE512P(t512p_1x1, 1, 1)
TILE512P(t512p_2x1, 2, 1)

/* ---------------------------------------------------------------- AVX2 (vpmaddubsw + vpmaddwd) */

#define T256 __attribute__((target("avx2,fma"), always_inline)) static inline

/* acc += per-row sums of 4 products, 8 rows (one 32-byte half of a step) */
T256 __m256i dp256(__m256i acc, __m256i w, __m256i a) {
    __m256i pairs = _mm256_maddubs_epi16(w, a);
    return _mm256_add_epi32(acc, _mm256_madd_epi16(pairs, _mm256_set1_epi16(1)));
}

/* Same tile as tile512, each block as two 8-row halves. */
T256 void tile256(const uint8_t *w, const float *sw, int groups, int b0, int NB, const int8_t *a, const float *sa,
                  int t0, int NT, int padded, const int32_t *asum, float *yacc, int rows, int32_t *partials) {
    for (int g = 0; g < groups; g++) {
        __m256i acc[2][4][2];
        for (int u = 0; u < NT; u++) {
            __m256i start = _mm256_set1_epi32(-32 * asum[(t0 + u) * groups + g]);
            for (int i = 0; i < NB; i++) {
                acc[i][u][0] = start;
                acc[i][u][1] = start;
            }
        }
        const int8_t *ag = a + (size_t) t0 * padded + (size_t) g * G;
        for (int s = 0; s < 32; s++) {
            __m256i wv[2][2];
            for (int i = 0; i < NB; i++) {
                const uint8_t *p = w + (((size_t) (b0 + i) * groups + g) * 32 + s) * STEP;
                wv[i][0] = _mm256_loadu_si256((const __m256i *) p);
                wv[i][1] = _mm256_loadu_si256((const __m256i *) (p + 32));
            }
            for (int u = 0; u < NT; u++) {
                __m256i x = _mm256_set1_epi32(*(const int32_t *) (ag + (size_t) u * padded + 4 * s));
                for (int i = 0; i < NB; i++) {
                    acc[i][u][0] = dp256(acc[i][u][0], wv[i][0], x);
                    acc[i][u][1] = dp256(acc[i][u][1], wv[i][1], x);
                }
            }
        }
        for (int i = 0; i < NB; i++) {
            const float *swp = sw + ((size_t) (b0 + i) * groups + g) * RB;
            for (int u = 0; u < NT; u++) {
                __m256 sav = _mm256_set1_ps(sa[(t0 + u) * groups + g]);
                for (int h = 0; h < 2; h++) {
                    __m256 s = _mm256_mul_ps(_mm256_loadu_ps(swp + 8 * h), sav);
                    __m256 q = _mm256_mul_ps(_mm256_cvtepi32_ps(acc[i][u][h]), s);
                    float *ya = yacc + (i * NT + u) * RB + 8 * h;
                    _mm256_storeu_ps(ya, _mm256_add_ps(_mm256_loadu_ps(ya), q));
                }
                if (partials) {
                    int32_t p[RB];
                    _mm256_storeu_si256((__m256i *) p, acc[i][u][0]);
                    _mm256_storeu_si256((__m256i *) (p + 8), acc[i][u][1]);
                    store_partials(p, b0 + i, t0 + u, g, groups, rows, partials);
                }
            }
        }
    }
}

#define TILE256(NAME, NB, NT) TILE_FN("avx2,fma", tile256, NAME, NB, NT)

TILE256(t256_2x1, 2, 1)
TILE256(t256_1x1, 1, 1)
TILE256(t256_2x4, 2, 4)
TILE256(t256_1x4, 1, 4)

/* ---------------------------------------------------------------- driver */

typedef void (*tile_fn)(const uint8_t *, const float *, int, int, const int8_t *, const float *, int, int,
                        const int32_t *, float *, int, int32_t *);

/*
 * y[t * ystride + r - lo] for tokens [0, tokens) and the rows r in [lo, hi) of blocks [bfrom, bto);
 * partials (may be NULL): P at ((t * rows + r) * groups + g) for every row r < rows of those blocks.
 * a: tokens x padded activation codes; sa: tokens x groups scales; sums (may be NULL): tokens x groups sums of the
 * codes, as fq6_quantize_sums writes them (a prompt's matmul runs as one call per chunk of rows on each thread:
 * summing every token's codes again in each call took as long as a chunk's products on 16 threads at 27M);
 * NULL: summed here. level: LEVEL_AVX512_VBMI (w in the packed layout), LEVEL_AVX512_VNNI or LEVEL_AVX2 (w in the
 * byte layout). Returns 0, or -1 for a level this library or CPU cannot run, -2 when out of memory.
 */
int fq6_gemm_sums(const uint8_t *w, const float *sw, int groups, int bfrom, int bto, const int8_t *a, const float *sa,
                  const int32_t *sums, int tokens, int padded, float *y, long ystride, int lo, int hi, int rows,
                  int32_t *partials, int level) {
    if (level > fq6_cpu_level() || level < LEVEL_AVX2) {
        return -1;
    }
    int32_t stack_sums[256];
    int32_t *own = NULL;
    const int32_t *asum = sums;
    if (!asum) {
        own = tokens * groups <= 256 ? stack_sums : malloc(sizeof(int32_t) * (size_t) tokens * groups);
        if (!own) {
            return -2;
        }
        code_sums(a, tokens, padded, groups, own);
        asum = own;
    }
    int wide = level >= LEVEL_AVX512_VNNI, packed = level == LEVEL_AVX512_VBMI;
    /* decode tiles: 4 (512) or 2 (256) blocks x 1 token; multi-token: 2 blocks x 4 tokens */
    int nbDecode = wide ? 4 : 2;
    tile_fn decode = packed ? d512p_4x1 : wide ? d512_4x1 : t256_2x1, decodeOne = packed ? t512p_1x1 : wide ? t512_1x1 : t256_1x1;
    /* the 4-token tiles read the byte layout only: packed weights are widened first (below) */
    tile_fn multi = wide ? t512_2x4 : t256_2x4, multiOne = wide ? t512_1x4 : t256_1x4;
    tile_fn single2 = packed ? t512p_2x1 : wide ? t512_2x1 : t256_2x1;
    /* packed prompts: each block pair widened once into scratch, then the byte tiles (see widen_blocks) */
    uint8_t *scratch = NULL;
    if (packed && tokens >= 4) {
        scratch = aligned_alloc(64, (size_t) 2 * groups * GROUP_BYTES);
        if (!scratch) {
            if (own != stack_sums) {
                free(own);
            }
            return -2;
        }
        single2 = t512_2x1; decodeOne = t512_1x1;
    }
    if (partials) {  /* the fast tiles give no partials: their general twins (same products and outputs) do */
        decode = decode == d512_4x1 ? t512_4x1g : decode == d512p_4x1 ? t512p_4x1g : decode;
        multi = multi == t512_2x4 ? t512_2x4g : multi;
    }
    float yacc[4 * 4 * RB];
    int b = bfrom;
    while (b < bto) {
        int nb;
        if (tokens >= 4) {
            nb = bto - b >= 2 ? 2 : 1;
        } else {
            nb = bto - b >= nbDecode ? nbDecode : (bto - b >= 2 ? 2 : 1);
        }
        const uint8_t *wb = w;
        if (scratch) {
            widen_blocks(w, groups, b, nb, scratch);
            /* the tiles address block (b + i) at w + (b + i) * groups * GROUP_BYTES: shift the base so that lands in scratch */
            wb = (const uint8_t *) ((uintptr_t) scratch - (uintptr_t) b * groups * GROUP_BYTES);
        }
        int t = 0;
        for (; t + 4 <= tokens; t += 4) {
            memset(yacc, 0, sizeof(float) * nb * 4 * RB);
            (nb == 2 ? multi : multiOne)(wb, sw, groups, b, a, sa, t, padded, asum, yacc, rows, partials);
            for (int i = 0; i < nb; i++) {
                for (int u = 0; u < 4; u++) {
                    store_rows(yacc + (i * 4 + u) * RB, b + i, t + u, y, ystride, lo, hi);
                }
            }
        }
        for (; t < tokens; t++) {
            memset(yacc, 0, sizeof(float) * nb * RB);
            tile_fn f = nb == nbDecode ? decode : nb == 2 ? single2 : decodeOne;
            f(wb, sw, groups, b, a, sa, t, padded, asum, yacc, rows, partials);
            for (int i = 0; i < nb; i++) {
                store_rows(yacc + i * RB, b + i, t, y, ystride, lo, hi);
            }
        }
        b += nb;
    }
    free(scratch);
    if (own != stack_sums) {
        free(own);
    }
    return 0;
}

/* fq6_gemm_sums summing the codes itself (the entry point of bench/native's rate programs). */
int fq6_gemm(const uint8_t *w, const float *sw, int groups, int bfrom, int bto, const int8_t *a, const float *sa,
             int tokens, int padded, float *y, long ystride, int lo, int hi, int rows, int32_t *partials, int level) {
    return fq6_gemm_sums(w, sw, groups, bfrom, bto, a, sa, NULL, tokens, padded, y, ystride, lo, hi, rows, partials, level);
}

/* ---------------------------------------------------------------- activation quantizer */

/*
 * The activation quantizer of docs/FQ6.md section 3 (io.flexq.plugin.quant.ActivationQuantizer), bit for bit:
 *   amax = max |x| over the group (NaN if any element is NaN, as Math.max); amax == 0 -> sa = 0, codes 0
 *   sa = amax / Q, inv = Q / amax (fp32 divisions); code = clamp(roundHalfAwayFromZero(x * inv), -(Q + 1), Q), NaN -> 0
 * roundHalfAwayFromZero(v) = trunc(v) + sign(v) when |v - trunc(v)| >= 0.5 (v - trunc(v) is exact in fp32), which
 * equals the reference's floor(|v| + 0.5) taken in double for every float, infinities included.
 * x: tokens rows of cols floats; codes: tokens rows of padded bytes (the padding is left as it is, zero);
 * scales: tokens x groups; sums (may be NULL): tokens x groups sums of the codes, for fq6_gemm_sums.
 * Returns -1 without AVX-512 (the caller then runs the Java quantizer).
 */
__attribute__((target("avx512f,avx512bw"))) int fq6_quantize_sums(const float *x, int tokens, int cols, int q, int8_t *codes,
                                                                   float *scales, int32_t *sums) {
    if (fq6_cpu_level() < LEVEL_AVX512_VNNI) {
        return -1;
    }
    int groups = (cols + G - 1) / G, padded = groups * G;
    const __m512 half = _mm512_set1_ps(0.5f), one = _mm512_set1_ps(1.0f);
    const __m512 lo = _mm512_set1_ps((float) -(q + 1)), hi = _mm512_set1_ps((float) q);
    const __m512i absmask = _mm512_set1_epi32(0x7fffffff), signmask = _mm512_set1_epi32((int) 0x80000000u);
    for (int t = 0; t < tokens; t++) {
        for (int g = 0; g < groups; g++) {
            const float *xp = x + (size_t) t * cols + (size_t) g * G;
            int8_t *cp = codes + (size_t) t * padded + (size_t) g * G;
            int n = cols - g * G < G ? cols - g * G : G;
            __m512 amaxv = _mm512_setzero_ps();
            __mmask16 nan = 0;
            for (int i = 0; i < n; i += 16) {
                __mmask16 m = n - i >= 16 ? (__mmask16) 0xFFFF : (__mmask16) ((1u << (n - i)) - 1);
                __m512 a = _mm512_castsi512_ps(_mm512_and_si512(_mm512_castps_si512(_mm512_maskz_loadu_ps(m, xp + i)), absmask));
                nan |= _mm512_cmp_ps_mask(a, a, _CMP_UNORD_Q);
                amaxv = _mm512_max_ps(amaxv, a);
            }
            float amax = nan ? __builtin_nanf("") : _mm512_reduce_max_ps(amaxv);
            if (amax == 0.0f) {
                scales[t * groups + g] = 0.0f;
                for (int i = 0; i < n; i++) {
                    cp[i] = 0;
                }
                if (sums) {
                    sums[t * groups + g] = 0;
                }
                continue;
            }
            float inv = (float) q / amax;
            __m512 vinv = _mm512_set1_ps(inv);
            __m512i total = _mm512_setzero_si512();
            for (int i = 0; i < n; i += 16) {
                __mmask16 m = n - i >= 16 ? (__mmask16) 0xFFFF : (__mmask16) ((1u << (n - i)) - 1);
                __m512 v = _mm512_mul_ps(_mm512_maskz_loadu_ps(m, xp + i), vinv);
                __m512 tr = _mm512_roundscale_ps(v, _MM_FROUND_TO_ZERO | _MM_FROUND_NO_EXC);
                __m512 f = _mm512_castsi512_ps(_mm512_and_si512(_mm512_castps_si512(_mm512_sub_ps(v, tr)), absmask));
                __mmask16 up = _mm512_cmp_ps_mask(f, half, _CMP_GE_OQ);
                __m512 sgn1 = _mm512_castsi512_ps(_mm512_or_si512(_mm512_castps_si512(one),
                        _mm512_and_si512(_mm512_castps_si512(v), signmask)));
                __m512 r = _mm512_mask_add_ps(tr, up, tr, sgn1);
                __mmask16 isnan = _mm512_cmp_ps_mask(r, r, _CMP_UNORD_Q);
                r = _mm512_min_ps(_mm512_max_ps(r, lo), hi);
                r = _mm512_mask_mov_ps(r, isnan, _mm512_setzero_ps());
                __m512i ci = _mm512_maskz_cvttps_epi32(m, r);
                total = _mm512_add_epi32(total, ci);
                _mm512_mask_cvtepi32_storeu_epi8(cp + i, m, ci);
            }
            scales[t * groups + g] = amax / (float) q;
            if (sums) {
                sums[t * groups + g] = _mm512_reduce_add_epi32(total);
            }
        }
    }
    return 0;
}
