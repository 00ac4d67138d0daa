// FlexQ-J CUDA kernels: W6A6 / W6A8 GEMM and GEMV on INT6 weights, exact int32 group partials.
//
// Targets sm_80 and newer (mma.sync b1 m16n8k256/m16n8k128 and s8 m16n8k32); tuned and measured on
// sm_90 (H200). Self-contained: no #include, so NVRTC compiles it with no header path. Every entry
// point at the bottom is extern "C" so the host looks it up by name.
//
// Exactness contract (see FLEXQ-CONTRACT.md): group size 128 along K, groups G = ceil(K/128), padding
// codes 0. P[t][r][g] = sum_k wcode[r][k] * acode[t][k] is computed exactly in int32 by every path;
// y[t][r] = sum_g in increasing g of (float)P * (sw[r][g] * sa[t][g]), each product and sum rounded in
// fp32 exactly as written (no FMA contraction), so an unsplit launch reproduces the reference bit for
// bit; a split-K launch adds the split partial sums with atomicAdd (order varies, bounded error).
//
// ------------------------------------------------------------------------------------------------
// Layouts (index formulas; the repacker below produces the weight layouts, the quantizer the
// activation layouts, and the kernels read them with the same formulas).
//
// Row tiles of 16 output rows: Rt = ceil(N / 16); rows past N are padding (codes 0, scale 0).
// Warp lane L = 4 * gid + tig  (gid = L >> 2 in 0..7, tig = L & 3), as in the PTX mma fragments.
//
// Weight tile (rt, g): 1536 bytes at byte ((rt * G) + g) * 1536 of the weight array. It holds 12
// 32-bit words per lane; word w of lane L is at byte (w >> 2) * 512 + L * 16 + (w & 3) * 4, so one
// warp reads a tile with three fully coalesced 16-byte loads.
//   BTC layout (bit planes):  w = 2 * i + h (plane i in 0..5, half h in 0..1);
//     bit b of word w = bit i of (wcode[r][k] & 63) with r = rt*16 + gid + 8h, k = g*128 + tig*32 + b.
//     Plane 5 is the two's-complement sign plane (weight -32).
//   I8 layout (6-bit codes placed in the top 6 bits of int8 lanes):  w = 3 * ks + m (k-step ks in 0..3,
//     m in 0..2). Define four int8x4 words T0..T3 of k-step ks; byte b of Tn is (uint8)(wcode[r][k] << 2)
//     with r = rt*16 + gid + 8*(n & 1), k = g*128 + ks*32 + 16*(n >> 1) + tig*4 + b. Then
//     S_m = T_m | ((T3 >> (2m + 2)) & 0x03030303): the low two bits of each byte of T0..T2 carry T3.
//     Unpacking: T_m = S_m & 0xFCFCFCFC, T3 = ((S0 & 0x03030303) << 2) | ((S1 & ..) << 4) | ((S2 & ..) << 6).
//     The int8 MMA then yields 4 * P exactly (|4P| <= 2^21), and P = D >> 2.
// Weight scales: fp16 bits (uint16) at index (rt * G + g) * 16 + (r - rt*16): scale of (r, g); 0 for padding.
//
// Activation record (t, g): 128 bytes at byte ((t * G) + g) * 128, two forms:
//   planes: 32-bit word (c * 8 + j), bit b = bit j of (acode[t][g*128 + c*32 + b] & mask), mask 63 (A6)
//     or 255 (A8); for A6 planes 6, 7 are zero. The top plane (5 for A6, 7 for A8) weighs negative.
//   int8:   byte p = tig*32 + ks*8 + h*4 + b holds acode[t][g*128 + ks*32 + h*16 + tig*4 + b]
//     (tig, ks in 0..3, h in 0..1, b in 0..3), so lane (gid, tig) finds its mma B fragments for all four
//     k-steps in the 32 contiguous bytes at tig*32.
//   int8, natural order (the `_nat` quantizers; qbits | QBITS_NATURAL in decoder.cu): byte p holds
//     acode[t][g*128 + p]. This is what hopper.cu's wgmma kernels read with the I8 weight tiles above: a
//     wgmma k-step j takes bytes 32j .. 32j+31 of each token's record as its k = 32j .. 32j+31, and the I8 tile's
//     words of k-step j are the register A fragment of the same k (see hopper.cu).
// Activation scales: float sa[g * ldsa + t], ldsa >= M and a multiple of 4.
// Output: y[t * N + r], float (every kernel) or fp16 / bf16 bits (the `_f16` / `_bf16` twins of the INT8-MMA
// kernels, see "Output types" below). Optional partials: int P[(t * N + r) * G + g].
//
// Both activation forms put lane (gid, tig)'s data at bytes tig*32 .. tig*32+31 of its token's record:
// one 32-byte read per lane per (token, group), whatever the path.
// ------------------------------------------------------------------------------------------------

typedef unsigned int u32;
typedef unsigned short u16;
typedef unsigned char u8;
typedef unsigned long long u64;

#define FULL_MASK 0xffffffffu
// NVRTC compiles this program with no headers, so math.h's INFINITY and NAN are not there (nvcc has them).
#ifndef INFINITY
#define INFINITY __int_as_float(0x7f800000)
#endif
#ifndef NAN
#define NAN __int_as_float(0x7fffffff)
#endif

// Programmatic dependent launch (sm_90+). A kernel launched with the programmatic-serialization attribute (the
// decoder's stream does so, see FlexqKernels.launch) may start while the kernel before it still runs: pdl_wait()
// returns once that kernel has finished and its writes are visible. Every entry point calls pdl_launch() first (so
// the next kernel may be scheduled early) and pdl_wait() before it reads anything an earlier kernel wrote; weights,
// which no kernel writes, may be read before (the decode GEMV starts streaming them while the norm before it runs).
// Launched without the attribute, or on sm_80..89, both are no-ops.
__device__ __forceinline__ void pdl_launch() {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
    asm volatile("griddepcontrol.launch_dependents;" ::: "memory");
#endif
}
__device__ __forceinline__ void pdl_wait() {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
    asm volatile("griddepcontrol.wait;" ::: "memory");
#endif
}

__device__ __forceinline__ float h2f(u16 h) {
    float f;
    asm("cvt.f32.f16 %0, %1;" : "=f"(f) : "h"(h));
    return f;
}

// (float) p for |p| < 2^22, exact, without the quarter-rate I2F: 1.5 * 2^23 + p has p in its mantissa.
__device__ __forceinline__ float exact_i2f(int p) {
    return __fsub_rn(__int_as_float(0x4B400000 + p), 12582912.0f);
}

// ---------------------------------------------------------------------------------- mma wrappers
__device__ __forceinline__ void mma_b1_k256(int (&d)[4], u32 a0, u32 a1, u32 a2, u32 a3, u32 b0, u32 b1) {
    asm("mma.sync.aligned.m16n8k256.row.col.s32.b1.b1.s32.and.popc {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, {%0,%1,%2,%3};\n"
        : "+r"(d[0]), "+r"(d[1]), "+r"(d[2]), "+r"(d[3])
        : "r"(a0), "r"(a1), "r"(a2), "r"(a3), "r"(b0), "r"(b1));
}

__device__ __forceinline__ void mma_b1_k128(int (&d)[4], u32 a0, u32 a1, u32 b0) {
    asm("mma.sync.aligned.m16n8k128.row.col.s32.b1.b1.s32.and.popc {%0,%1,%2,%3}, {%4,%5}, {%6}, {%0,%1,%2,%3};\n"
        : "+r"(d[0]), "+r"(d[1]), "+r"(d[2]), "+r"(d[3])
        : "r"(a0), "r"(a1), "r"(b0));
}

// The FlexQ paper's shape: 8 rows x 8 columns x 128 bits.
__device__ __forceinline__ void mma_b1_m8n8k128(int &d0, int &d1, u32 a0, u32 b0) {
    asm("mma.sync.aligned.m8n8k128.row.col.s32.b1.b1.s32.and.popc {%0,%1}, {%2}, {%3}, {%0,%1};\n"
        : "+r"(d0), "+r"(d1)
        : "r"(a0), "r"(b0));
}

__device__ __forceinline__ void mma_s8_k32(int (&d)[4], u32 a0, u32 a1, u32 a2, u32 a3, u32 b0, u32 b1) {
    asm("mma.sync.aligned.m16n8k32.row.col.s32.s8.s8.s32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, {%0,%1,%2,%3};\n"
        : "+r"(d[0]), "+r"(d[1]), "+r"(d[2]), "+r"(d[3])
        : "r"(a0), "r"(a1), "r"(a2), "r"(a3), "r"(b0), "r"(b1));
}

// ------------------------------------------------------------------------- bit-serial plans (BTC)
// P = sum over plane pairs (i, j) of c_ij * popc(W_i AND A_j), c_ij = 2^(i+j) * s_i * s_j with
// s = -1 for the top (sign) plane. Pairs with equal c_ij are summed by chaining the mma accumulator;
// two pairs of one class share one m16n8k256 (k 0..127 carries the first pair's planes, k 128..255
// the second's), a lone pair takes an m16n8k128. FLUSH(c) adds c * (class sum) to P. W6A6: 15
// classes, 15 k256 + 6 k128 instead of 36 k128; W6A8: 19 classes, 19 k256 + 10 k128 instead of 48.
// (Generated by grouping the pairs by c_ij in increasing |c|, pairing in (i, j) order.)
#define FLEXQ_BTC_PLAN_A6(K256, K128, FLUSH) \
    K128(0,0) FLUSH(1) \
    K256(0,1,1,0) FLUSH(2) \
    K256(0,2,1,1) K128(2,0) FLUSH(4) \
    K256(0,3,1,2) K256(2,1,3,0) FLUSH(8) \
    K256(0,4,1,3) K256(2,2,3,1) K128(4,0) FLUSH(16) \
    K256(0,5,5,0) FLUSH(-32) \
    K256(1,4,2,3) K256(3,2,4,1) FLUSH(32) \
    K256(1,5,5,1) FLUSH(-64) \
    K256(2,4,3,3) K128(4,2) FLUSH(64) \
    K256(2,5,5,2) FLUSH(-128) \
    K256(3,4,4,3) FLUSH(128) \
    K256(3,5,5,3) FLUSH(-256) \
    K128(4,4) FLUSH(256) \
    K256(4,5,5,4) FLUSH(-512) \
    K128(5,5) FLUSH(1024)

#define FLEXQ_BTC_PLAN_A8(K256, K128, FLUSH) \
    K128(0,0) FLUSH(1) \
    K256(0,1,1,0) FLUSH(2) \
    K256(0,2,1,1) K128(2,0) FLUSH(4) \
    K256(0,3,1,2) K256(2,1,3,0) FLUSH(8) \
    K256(0,4,1,3) K256(2,2,3,1) K128(4,0) FLUSH(16) \
    K128(5,0) FLUSH(-32) \
    K256(0,5,1,4) K256(2,3,3,2) K128(4,1) FLUSH(32) \
    K128(5,1) FLUSH(-64) \
    K256(0,6,1,5) K256(2,4,3,3) K128(4,2) FLUSH(64) \
    K256(0,7,5,2) FLUSH(-128) \
    K256(1,6,2,5) K256(3,4,4,3) FLUSH(128) \
    K256(1,7,5,3) FLUSH(-256) \
    K256(2,6,3,5) K128(4,4) FLUSH(256) \
    K256(2,7,5,4) FLUSH(-512) \
    K256(3,6,4,5) FLUSH(512) \
    K256(3,7,5,5) FLUSH(-1024) \
    K128(4,6) FLUSH(1024) \
    K256(4,7,5,6) FLUSH(-2048) \
    K128(5,7) FLUSH(4096)

// Paths of the inner product of one 16-row x 8-token tile over one group.
#define PATH_BTC 0    // bit planes, m16n8k256 / m16n8k128 as planned above
#define PATH_PAPER 1  // bit planes, every pair as two m8n8k128 (the FlexQ paper's instruction)
#define PATH_I8 2     // int8 layout, four m16n8k32 s8

// w: the lane's 12 weight words of the tile; a: the lane's 8 activation words of its token.
// Returns (P << PSHIFT) for (row gid, tokens 2tig, 2tig+1) in p[0], p[1] and row gid+8 in p[2], p[3]:
// the I8 path yields 4P (codes sit in the top 6 bits of each int8), the bit-serial paths P.
template <int PATH> struct PathShift { static constexpr int value = PATH == 2 ? 2 : 0; };
template <int PATH, int ABITS>
__device__ __forceinline__ void tile_group_product(const u32 (&w)[12], const u32 (&a)[8], int (&p)[4]) {
    p[0] = p[1] = p[2] = p[3] = 0;
    if (PATH == PATH_I8) {
        int d[4] = {0, 0, 0, 0};
#pragma unroll
        for (int ks = 0; ks < 4; ++ks) {
            const u32 s0 = w[3 * ks], s1 = w[3 * ks + 1], s2 = w[3 * ks + 2];
            const u32 t0 = s0 & 0xFCFCFCFCu, t1 = s1 & 0xFCFCFCFCu, t2 = s2 & 0xFCFCFCFCu;
            const u32 t3 = ((s0 & 0x03030303u) << 2) | ((s1 & 0x03030303u) << 4) | ((s2 & 0x03030303u) << 6);
            mma_s8_k32(d, t0, t1, t2, t3, a[2 * ks], a[2 * ks + 1]);
        }
#pragma unroll
        for (int c = 0; c < 4; ++c) p[c] = d[c];
    } else if (PATH == PATH_BTC) {
        int d[4] = {0, 0, 0, 0};
#define K256(i1, j1, i2, j2) mma_b1_k256(d, w[2 * (i1)], w[2 * (i1) + 1], w[2 * (i2)], w[2 * (i2) + 1], a[j1], a[j2]);
#define K128(i1, j1) mma_b1_k128(d, w[2 * (i1)], w[2 * (i1) + 1], a[j1]);
#define FLUSH(coef) { _Pragma("unroll") for (int c = 0; c < 4; ++c) { p[c] += (coef) * d[c]; d[c] = 0; } }
        if (ABITS == 6) { FLEXQ_BTC_PLAN_A6(K256, K128, FLUSH) } else { FLEXQ_BTC_PLAN_A8(K256, K128, FLUSH) }
#undef K256
#undef K128
        // FLUSH kept for the paper path
    } else {
        int d[4] = {0, 0, 0, 0};
#define K256(i1, j1, i2, j2) \
        mma_b1_m8n8k128(d[0], d[1], w[2 * (i1)], a[j1]); mma_b1_m8n8k128(d[2], d[3], w[2 * (i1) + 1], a[j1]); \
        mma_b1_m8n8k128(d[0], d[1], w[2 * (i2)], a[j2]); mma_b1_m8n8k128(d[2], d[3], w[2 * (i2) + 1], a[j2]);
#define K128(i1, j1) \
        mma_b1_m8n8k128(d[0], d[1], w[2 * (i1)], a[j1]); mma_b1_m8n8k128(d[2], d[3], w[2 * (i1) + 1], a[j1]);
        if (ABITS == 6) { FLEXQ_BTC_PLAN_A6(K256, K128, FLUSH) } else { FLEXQ_BTC_PLAN_A8(K256, K128, FLUSH) }
#undef K256
#undef K128
    }
#undef FLUSH
}

// y += (float) P * (sw * sa), rounded as the contract's reference rounds it. For the I8 path p = 4P and
// the accumulator holds 4y: every product and sum is the reference's times 4, and scaling by a power of
// two commutes with round-to-nearest (outside the subnormal range), so y = acc / 4 at the end is the
// reference's y bit for bit, with no per-element shift in the loop.
__device__ __forceinline__ float epilogue_add(float y, int p, float sw, float sa) {
    return __fadd_rn(y, __fmul_rn(exact_i2f(p), __fmul_rn(sw, sa)));
}

// --------------------------------------------------------------------------------- output types
// The epilogue always accumulates y in fp32 exactly as the contract says; only the final store differs.
// OutT = float stores the fp32 value (atomicAdd for split-K, as before). OutF16 / OutBf16 store the same
// fp32 value rounded once to fp16 / bf16 with round-to-nearest-even (PTX cvt.rn, the instruction behind
// __float2half_rn / __float2bfloat16_rn; no cuda_fp16.h here since NVRTC compiles with no include path),
// so a 16-bit output equals RNE(fp32 output) bit for bit. 16-bit outputs are offered for unsplit launches
// only (gridDim.y == 1): split-K partial sums cannot be added exactly into a 16-bit y, so a split launch
// of a 16-bit twin stores nothing (the host refuses such launches; see FlexqKernels.gemm).
struct OutF16 { u16 bits; };
struct OutBf16 { u16 bits; };
template <typename T> struct IsF32 { static constexpr bool value = false; };
template <> struct IsF32<float> { static constexpr bool value = true; };

__device__ __forceinline__ void store_out(float *y, long long i, float v) { y[i] = v; }
__device__ __forceinline__ void store_out(OutF16 *y, long long i, float v) {
    u16 h;
    asm("cvt.rn.f16.f32 %0, %1;" : "=h"(h) : "f"(v));
    y[i].bits = h;
}
__device__ __forceinline__ void store_out(OutBf16 *y, long long i, float v) {
    u16 h;
    asm("cvt.rn.bf16.f32 %0, %1;" : "=h"(h) : "f"(v));
    y[i].bits = h;
}

// ------------------------------------------------------------------------- activation quantizer
// One warp per (token t, group g). Element k = g*128 + i*32 + lane (i = 0..3) is lane `lane`'s value i,
// so a warp reads 4 coalesced 128-byte lines, and ballot(i, plane j) is directly word i*8 + j of the
// planes record. Rounding: sa = amax / Q, inv = Q / amax (IEEE divisions), code = clamp(roundf(x * inv)).
// quantize_warp: the warp's 128 values of one (token, group) record, lane `lane` holding v[i] = element
// i*32 + lane (zero past K), become that record's codes (int8 and/or planes form) and its scale *sa.
// The decoder's fused kernels (decoder.cu: RMSNorm, SwiGLU) call it on values they computed themselves.
template <int Q>
__device__ __forceinline__ void quantize_warp(const float (&v)[4], int lane, u32 *__restrict__ a8rec,
                                              u32 *__restrict__ aprec, float *__restrict__ sa, bool natural = false) {
    float amax = 0.0f;
#pragma unroll
    for (int i = 0; i < 4; ++i) amax = fmaxf(amax, fabsf(v[i]));
#pragma unroll
    for (int o = 16; o > 0; o >>= 1) amax = fmaxf(amax, __shfl_xor_sync(FULL_MASK, amax, o));
    int c[4] = {0, 0, 0, 0};
    float s = 0.0f;
    if (amax > 0.0f) {
        s = __fdiv_rn(amax, (float)Q);
        const float inv = __fdiv_rn((float)Q, amax);
#pragma unroll
        for (int i = 0; i < 4; ++i) {
            // x * inv is NaN only when inv overflowed (amax < Q / FLT_MAX) and x == 0: code 0, as the contract says
            // (docs/FQ6.md section 6); fmaxf(NaN, lo) would return lo, so the test is explicit.
            float q = roundf(__fmul_rn(v[i], inv));
            q = q != q ? 0.0f : fminf(fmaxf(q, (float)(-(Q + 1))), (float)Q);
            c[i] = (int)q;
        }
    }
    if (lane == 0) *sa = s;
    if (aprec != nullptr) {
        const int mask = Q == 31 ? 63 : 255;
        u32 word = 0;
#pragma unroll
        for (int i = 0; i < 4; ++i) {
#pragma unroll
            for (int j = 0; j < 8; ++j) {
                const u32 b = __ballot_sync(FULL_MASK, ((c[i] & mask) >> j) & 1);
                if (lane == i * 8 + j) word = b;
            }
        }
        aprec[lane] = word;
    }
    if (a8rec != nullptr && natural) {
        // lane writes word L, whose byte b is code k = 4L + b, i.e. value L >> 3 of lane 4 * (L & 7) + b
        u32 word = 0;
#pragma unroll
        for (int i = 0; i < 4; ++i) {
#pragma unroll
            for (int b = 0; b < 4; ++b) {
                const int code = __shfl_sync(FULL_MASK, c[i], 4 * (lane & 7) + b);
                if (i == (lane >> 3)) word |= ((u32)code & 0xFFu) << (8 * b);
            }
        }
        a8rec[lane] = word;
    } else if (a8rec != nullptr) {
        // lane writes word L = tig*8 + ks*2 + h, whose byte b is code k = ks*32 + h*16 + tig*4 + b,
        // i.e. value ks of lane h*16 + tig*4 + b.
        const int tig = lane >> 3, ks = (lane >> 1) & 3, h = lane & 1;
        u32 word = 0;
#pragma unroll
        for (int i = 0; i < 4; ++i) {
#pragma unroll
            for (int b = 0; b < 4; ++b) {
                const int code = __shfl_sync(FULL_MASK, c[i], h * 16 + tig * 4 + b);
                if (i == ks) word |= ((u32)code & 0xFFu) << (8 * b);
            }
        }
        a8rec[lane] = word;
    }
}

template <int Q, bool NATURAL = false>
__device__ __forceinline__ void quantize_body(const float *__restrict__ x, int ldx, int M, int K, int G,
                                              u32 *__restrict__ a8, u32 *__restrict__ ap,
                                              float *__restrict__ sa, int ldsa) {
    pdl_launch();
    pdl_wait();
    const long long warp = ((long long)blockIdx.x * blockDim.x + threadIdx.x) >> 5;
    const int lane = threadIdx.x & 31;
    if (warp >= (long long)M * G) return;
    const int t = (int)(warp / G), g = (int)(warp % G);
    float v[4];
#pragma unroll
    for (int i = 0; i < 4; ++i) {
        const int k = g * 128 + i * 32 + lane;
        v[i] = k < K ? x[(long long)t * ldx + k] : 0.0f;
    }
    const long long rec = ((long long)t * G + g) * 32;  // record (t, g) in 32-bit words
    quantize_warp<Q>(v, lane, a8 == nullptr ? nullptr : a8 + rec, ap == nullptr ? nullptr : ap + rec, sa + (long long)g * ldsa + t,
                     NATURAL);
}

// ------------------------------------------------------------------------------- weight repacker
// One warp per weight tile (rt, g). Reads FQ6 bytes (codes: row r group g at byte (r*G + g)*96, codes
// 4j..4j+3 in the little-endian 24-bit word at bytes 3j..3j+2, 6 bits each; scales: fp16 at byte
// R*G*96 + (r*G + g)*2) and writes the BTC and/or I8 tile and the scale tile as documented above.
__device__ __forceinline__ int fq6_code(const u8 *__restrict__ fq6, int R, int K, int G, int r, int g, int kk) {
    if (r >= R || g * 128 + kk >= K) return 0;
    const u8 *p = fq6 + ((long long)r * G + g) * 96 + 3 * (kk >> 2);
    const u32 word = (u32)p[0] | ((u32)p[1] << 8) | ((u32)p[2] << 16);
    const int c = (int)((word >> (6 * (kk & 3))) & 63u);
    return (c ^ 32) - 32;
}

__device__ __forceinline__ void repack_body(const u8 *__restrict__ fq6, int R, int K, int G,
                                            u32 *__restrict__ wbtc, u32 *__restrict__ wi8, u16 *__restrict__ ws) {
    pdl_launch();
    pdl_wait();
    const long long warp = ((long long)blockIdx.x * blockDim.x + threadIdx.x) >> 5;
    const int lane = threadIdx.x & 31, gid = lane >> 2, tig = lane & 3;
    const int Rt = (R + 15) / 16;
    if (warp >= (long long)Rt * G) return;
    const int rt = (int)(warp / G), g = (int)(warp % G);
    const long long tileWords = warp * 384;  // 1536 bytes
    if (wbtc != nullptr) {
#pragma unroll
        for (int h = 0; h < 2; ++h) {
            u32 planes[6] = {0, 0, 0, 0, 0, 0};
            for (int b = 0; b < 32; ++b) {
                const int c = fq6_code(fq6, R, K, G, rt * 16 + gid + 8 * h, g, tig * 32 + b) & 63;
#pragma unroll
                for (int i = 0; i < 6; ++i) planes[i] |= (u32)((c >> i) & 1) << b;
            }
#pragma unroll
            for (int i = 0; i < 6; ++i) {
                const int w = 2 * i + h;
                wbtc[tileWords + (w >> 2) * 128 + lane * 4 + (w & 3)] = planes[i];
            }
        }
    }
    if (wi8 != nullptr) {
#pragma unroll
        for (int ks = 0; ks < 4; ++ks) {
            u32 t[4];
#pragma unroll
            for (int n = 0; n < 4; ++n) {
                t[n] = 0;
#pragma unroll
                for (int b = 0; b < 4; ++b) {
                    const int c = fq6_code(fq6, R, K, G, rt * 16 + gid + 8 * (n & 1), g, ks * 32 + 16 * (n >> 1) + tig * 4 + b);
                    t[n] |= (u32)((c * 4) & 0xFF) << (8 * b);
                }
            }
#pragma unroll
            for (int m = 0; m < 3; ++m) {
                const u32 s = t[m] | ((t[3] >> (2 * m + 2)) & 0x03030303u);
                const int w = 3 * ks + m;
                wi8[tileWords + (w >> 2) * 128 + lane * 4 + (w & 3)] = s;
            }
        }
    }
    if (lane < 16) {
        const int r = rt * 16 + lane;
        u16 s = 0;
        if (r < R) {
            const u8 *p = fq6 + (long long)R * G * 96 + ((long long)r * G + g) * 2;
            s = (u16)(p[0] | (p[1] << 8));
        }
        ws[warp * 16 + lane] = s;
    }
}

// ------------------------------------------------------------------------ GEMV (decode, M small)
// Warp = one 16-row tile x (8 * NT) tokens x a range of groups; blocks of GEMV_WARPS warps.
// Grid: x = ceil(Rt / GEMV_WARPS), y = K-splits (gps groups each), z = ceil(M / (8 * NT)).
// Loads go straight from global memory to registers (each weight word is used by one warp), one
// group ahead. With gridDim.y > 1 the caller zeroes y and the splits atomicAdd.
#define GEMV_WARPS 4

template <int NT>
struct GemvFrag {
    u32 w[12];
    u32 sw;  // fp16 scales of rows gid (low half) and gid + 8 (high half)
    u32 a[NT][8];
    float sa[NT][2];
};

template <int NT>
__device__ __forceinline__ void gemv_load(GemvFrag<NT> &f, const uint4 *__restrict__ wt, const u16 *__restrict__ ws,
                                          const uint4 *__restrict__ act, const float *__restrict__ sa, int ldsa,
                                          int M, int G, int rt, int g, int t0, int lane) {
    const uint4 *tile = wt + ((long long)rt * G + g) * 96;
    const uint4 q0 = __ldg(tile + lane), q1 = __ldg(tile + 32 + lane), q2 = __ldg(tile + 64 + lane);
    f.w[0] = q0.x; f.w[1] = q0.y; f.w[2] = q0.z; f.w[3] = q0.w;
    f.w[4] = q1.x; f.w[5] = q1.y; f.w[6] = q1.z; f.w[7] = q1.w;
    f.w[8] = q2.x; f.w[9] = q2.y; f.w[10] = q2.z; f.w[11] = q2.w;
    const int gid = lane >> 2, tig = lane & 3;
    const u16 *sws = ws + ((long long)rt * G + g) * 16;
    f.sw = (u32)__ldg(sws + gid) | ((u32)__ldg(sws + gid + 8) << 16);
#pragma unroll
    for (int nt = 0; nt < NT; ++nt) {
        const int tok = t0 + nt * 8 + gid;
        uint4 x0 = make_uint4(0, 0, 0, 0), x1 = x0;
        if (tok < M) {
            const uint4 *rec = act + ((long long)tok * G + g) * 8 + tig * 2;
            x0 = __ldg(rec);
            x1 = __ldg(rec + 1);
        }
        f.a[nt][0] = x0.x; f.a[nt][1] = x0.y; f.a[nt][2] = x0.z; f.a[nt][3] = x0.w;
        f.a[nt][4] = x1.x; f.a[nt][5] = x1.y; f.a[nt][6] = x1.z; f.a[nt][7] = x1.w;
        const int ts = t0 + nt * 8 + 2 * tig;
        f.sa[nt][0] = ts < M ? __ldg(sa + (long long)g * ldsa + ts) : 0.0f;
        f.sa[nt][1] = ts + 1 < M ? __ldg(sa + (long long)g * ldsa + ts + 1) : 0.0f;
    }
}

template <int PATH, int ABITS, int NT, bool WITHP, typename OutT = float>
__device__ __forceinline__ void gemv_body(const uint4 *__restrict__ wt, const u16 *__restrict__ ws,
                                          const uint4 *__restrict__ act, const float *__restrict__ sa, int ldsa,
                                          OutT *__restrict__ y, int *__restrict__ P, int M, int N, int G, int gps) {
    pdl_launch();
    pdl_wait();
    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
    const int gid = lane >> 2, tig = lane & 3;
    const int Rt = (N + 15) >> 4;
    const int rt = blockIdx.x * GEMV_WARPS + warp;
    if (rt >= Rt) return;
    const int t0 = blockIdx.z * 8 * NT;
    const int g0 = blockIdx.y * gps;
    const int g1 = min(G, g0 + gps);
    float acc[NT][4];
#pragma unroll
    for (int nt = 0; nt < NT; ++nt)
#pragma unroll
        for (int c = 0; c < 4; ++c) acc[nt][c] = 0.0f;
    GemvFrag<NT> cur;
    if (g0 < g1) gemv_load<NT>(cur, wt, ws, act, sa, ldsa, M, G, rt, g0, t0, lane);
    for (int g = g0; g < g1; ++g) {
        GemvFrag<NT> nxt;
        if (g + 1 < g1) gemv_load<NT>(nxt, wt, ws, act, sa, ldsa, M, G, rt, g + 1, t0, lane);
        const float swLo = h2f((u16)(cur.sw & 0xFFFF)), swHi = h2f((u16)(cur.sw >> 16));
#pragma unroll
        for (int nt = 0; nt < NT; ++nt) {
            int p[4];
            tile_group_product<PATH, ABITS>(cur.w, cur.a[nt], p);
#pragma unroll
            for (int c = 0; c < 4; ++c) acc[nt][c] = epilogue_add(acc[nt][c], p[c], c < 2 ? swLo : swHi, cur.sa[nt][c & 1]);
            if (WITHP) {
#pragma unroll
                for (int c = 0; c < 4; ++c) {
                    const int r = rt * 16 + gid + 8 * (c >> 1), t = t0 + nt * 8 + 2 * tig + (c & 1);
                    if (r < N && t < M) P[((long long)t * N + r) * G + g] = p[c] >> PathShift<PATH>::value;
                }
            }
        }
        if (g + 1 < g1) cur = nxt;
    }
#pragma unroll
    for (int nt = 0; nt < NT; ++nt)
#pragma unroll
        for (int c = 0; c < 4; ++c) {
            const int r = rt * 16 + gid + 8 * (c >> 1), t = t0 + nt * 8 + 2 * tig + (c & 1);
            if (r < N && t < M) {
                const float v = PathShift<PATH>::value ? acc[nt][c] * 0.25f : acc[nt][c];
                if constexpr (IsF32<OutT>::value) {
                    if (gridDim.y == 1) y[(long long)t * N + r] = v;
                    else atomicAdd(y + (long long)t * N + r, v);
                } else if (gridDim.y == 1) {
                    store_out(y, (long long)t * N + r, v);
                }
            }
        }
}

// ------------------------------------------------------- ordered GEMV (decode, M <= 8, exact, no split-K)
// Block = one 16-row tile x up to 8 tokens x all of K; its ORD_WARPS warps take the groups in batches of
// ORD_BATCH (warp w: groups w*B .. w*B+B-1, then + ORD_WARPS*B, ...), issuing a batch's loads together so each
// warp keeps B tiles (B * 1536 bytes) in flight. Each warp writes the group terms (float)P * (sw * sa) to shared
// memory, term[(g * M + t) * 16 + r]; then thread (t, r) adds its G terms in increasing g, which is the
// reference's order: the output is bit-identical to an unsplit launch, with the whole GPU busy and no zeroed
// output, atomics or second kernel. Grid: x = row tiles; ORD_WARPS * 32 threads; dynamic shared memory
// G * M * 16 * 4 bytes. M <= 8 (the host checks). I8 layout only: A6 and A8 codes both run as int8.
// Where the activations come from and where the sums go are parameters (the decoder fuses work into both ends, see
// decoder.cu): ActSrc (OrdActRecords: the int8 records and scales an earlier kernel wrote) gives each batch's
// fragments; Epi (OrdStore: y[t * N + r]) receives every (t, r) sum, called by all threads of the block together (an
// epilogue may exchange values between the lanes of rows r and r ^ 1).
#define ORD_WARPS 8
#define ORD_BATCH 4
// Blocks per SM the entry points ask for (80 registers): 1.5x the weight bytes in flight of the two that 120 registers
// allow when each batch's activation fragments are all loaded before its first group (step 289.9 vs 284.8 tok/s,
// bench/results/e2e-h100.md round 6); the `_deep` entry points do that, for K past one round (see gemv_ord_body).
#define ORD_MIN_BLOCKS 3

struct OrdActRecords {
    const uint4 *act;
    const float *sa;
    int ldsa, M, G;
    // called by the whole warp before the batch's loads; records need no preparation
    __device__ __forceinline__ void prepare(int gb, int lane) const {}
    __device__ __forceinline__ void load(int g, int b, int gid, int tig, u32 (&a)[8], float (&s)[2]) const {
        uint4 x0 = make_uint4(0, 0, 0, 0), x1 = x0;
        if (gid < M) {
            const uint4 *rec = act + ((long long)gid * G + g) * 8 + tig * 2;
            x0 = __ldg(rec);
            x1 = __ldg(rec + 1);
        }
        a[0] = x0.x; a[1] = x0.y; a[2] = x0.z; a[3] = x0.w;
        a[4] = x1.x; a[5] = x1.y; a[6] = x1.z; a[7] = x1.w;
        const int ts = 2 * tig;
        s[0] = ts < M ? __ldg(sa + (long long)g * ldsa + ts) : 0.0f;
        s[1] = ts + 1 < M ? __ldg(sa + (long long)g * ldsa + ts + 1) : 0.0f;
    }
};

template <typename OutT>
struct OrdStore {
    OutT *y;
    int N;
    __device__ __forceinline__ void operator()(int t, int r, float v, bool valid) const {
        if (valid && r < N) store_out(y, (long long)t * N + r, v);
    }
};

// DEEP: a batch's four activation fragments are loaded together before its first group (120 registers, two blocks per
// SM) rather than each as its group is computed (80, three): for K past one round of batches (G > ORD_WARPS *
// ORD_BATCH), where each warp takes several batches one after the other and their activation loads would otherwise
// wait one by one (8B down_proj: 26.5 us lean, 24.0 deep). The same arithmetic in the same order either way.
template <bool WITHP, bool DEEP = false, typename ActSrc, typename Epi>
__device__ __forceinline__ void gemv_ord_body(const ActSrc &src, const Epi &epi, const uint4 *__restrict__ wt,
                                              const u16 *__restrict__ ws, int *__restrict__ P, int M, int N, int G) {
    extern __shared__ float terms[];
    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
    const int gid = lane >> 2, tig = lane & 3;
    const int rt = blockIdx.x;
    pdl_launch();
    u32 w[ORD_BATCH][12];
    u32 sw[ORD_BATCH];
    // weights (never written by a kernel) stream in before the wait for the kernel that made the activations
    auto load_weights = [&](int gb) {
#pragma unroll
        for (int b = 0; b < ORD_BATCH; ++b) {
            const int g = gb + b;
            if (g < G) {
                const uint4 *tile = wt + ((long long)rt * G + g) * 96;
                const uint4 q0 = __ldg(tile + lane), q1 = __ldg(tile + 32 + lane), q2 = __ldg(tile + 64 + lane);
                w[b][0] = q0.x; w[b][1] = q0.y; w[b][2] = q0.z; w[b][3] = q0.w;
                w[b][4] = q1.x; w[b][5] = q1.y; w[b][6] = q1.z; w[b][7] = q1.w;
                w[b][8] = q2.x; w[b][9] = q2.y; w[b][10] = q2.z; w[b][11] = q2.w;
                const u16 *sws = ws + ((long long)rt * G + g) * 16;
                sw[b] = (u32)__ldg(sws + gid) | ((u32)__ldg(sws + gid + 8) << 16);
            }
        }
    };
    if (warp * ORD_BATCH < G) load_weights(warp * ORD_BATCH);
    pdl_wait();
    for (int gb = warp * ORD_BATCH; gb < G; gb += ORD_WARPS * ORD_BATCH) {
        if (gb != warp * ORD_BATCH) load_weights(gb);
        src.prepare(gb, lane);
        u32 a[DEEP ? ORD_BATCH : 1][8];  // lean: loaded as its group is computed, the block fits three to an SM
        float s[DEEP ? ORD_BATCH : 1][2];
        if (DEEP) {
#pragma unroll
            for (int b = 0; b < ORD_BATCH; ++b) {
                if (gb + b < G) src.load(gb + b, b, gid, tig, a[DEEP ? b : 0], s[DEEP ? b : 0]);
            }
        }
#pragma unroll
        for (int b = 0; b < ORD_BATCH; ++b) {
            const int g = gb + b, ab = DEEP ? b : 0;
            if (g < G) {
                if (!DEEP) src.load(g, b, gid, tig, a[ab], s[ab]);
                int p[4];
                tile_group_product<PATH_I8, 8>(w[b], a[ab], p);
                const float swLo = h2f((u16)(sw[b] & 0xFFFF)), swHi = h2f((u16)(sw[b] >> 16));
#pragma unroll
                for (int c = 0; c < 4; ++c) {
                    const int r = gid + 8 * (c >> 1), t = 2 * tig + (c & 1);
                    if (t < M) {
                        terms[(g * M + t) * 16 + r] = __fmul_rn(exact_i2f(p[c]), __fmul_rn(c < 2 ? swLo : swHi, s[ab][c & 1]));
                        if (WITHP && rt * 16 + r < N) P[((long long)t * N + rt * 16 + r) * G + g] = p[c] >> 2;
                    }
                }
            }
        }
    }
    __syncthreads();
    // every thread takes part in each round (valid or not), so an epilogue may shuffle between lanes
    for (int j0 = 0; j0 < M * 16; j0 += blockDim.x) {
        const int j = j0 + threadIdx.x;
        const bool valid = j < M * 16;
        float acc = 0.0f;
        if (valid) {
#pragma unroll 8
            for (int g = 0; g < G; ++g) acc = __fadd_rn(acc, terms[g * M * 16 + j]);
        }
        epi(valid ? j >> 4 : 0, rt * 16 + (j & 15), acc * 0.25f, valid);  // terms carry 4P: see epilogue_add
    }
}

// ---------------------------------------------------------------------- GEMM (prefill, M large)
// Block tile: ROWS = WR*MT*16 rows x TOKS = WT*NT*8 tokens; warp tile MT row tiles x NT token tiles.
// One pipeline stage = one 128-wide group: STAGES stages in dynamic shared memory, filled with
// cp.async (16-byte chunks, zero-filled past N or M). Stage layout (bytes):
//   [0, ROWS*96)              weight tiles, 1536 bytes each, global tile layout unchanged
//   [ROWS*96, +ROWS*2)        weight scales, 16 fp16 per tile
//   [.., +TOKS*128)           activation records; 16-byte chunk c of token row tt stored at chunk
//                             c ^ (tt & 7) so a warp's 32-byte reads hit all banks once
//   [.., +TOKS*4)             activation scales sa[g][t0 .. t0+TOKS)
// Grid: x = ceil(N / ROWS), y = ceil(M / TOKS).
__device__ __forceinline__ void cp_async16(u32 smem, const void *gmem, bool valid) {
    const int n = valid ? 16 : 0;
    asm volatile("cp.async.cg.shared.global [%0], [%1], 16, %2;\n" ::"r"(smem), "l"(gmem), "r"(n));
}
__device__ __forceinline__ void cp_async_commit() { asm volatile("cp.async.commit_group;\n" ::); }
template <int N>
__device__ __forceinline__ void cp_async_wait() { asm volatile("cp.async.wait_group %0;\n" ::"n"(N)); }

template <int PATH, int ABITS, int WR, int WT, int MT, int NT, int STAGES, bool WITHP, typename OutT = float>
__device__ __forceinline__ void gemm_body(const uint4 *__restrict__ wt, const u16 *__restrict__ ws,
                                          const uint4 *__restrict__ act, const float *__restrict__ sa, int ldsa,
                                          OutT *__restrict__ y, int *__restrict__ P, int M, int N, int G) {
    pdl_launch();
    pdl_wait();
    constexpr int ROWS = WR * MT * 16, TOKS = WT * NT * 8, TILES = ROWS / 16;
    constexpr int OFF_SW = ROWS * 96, OFF_A = OFF_SW + ROWS * 2, OFF_SA = OFF_A + TOKS * 128;
    constexpr int STAGE = OFF_SA + TOKS * 4;
    constexpr int CH_W = TILES * 96, CH_SW = TILES * 2, CH_A = TOKS * 8, CH_SA = TOKS / 4;
    constexpr int THREADS = WR * WT * 32;
    extern __shared__ uint4 smem[];
    const u32 sbase = (u32)__cvta_generic_to_shared(smem);
    const int tid = threadIdx.x, lane = tid & 31, warp = tid >> 5;
    const int gid = lane >> 2, tig = lane & 3;
    const int wr = warp % WR, wtk = warp / WR;
    const int Rt = (N + 15) >> 4;
    const int rt0 = blockIdx.x * TILES, t0 = blockIdx.y * TOKS;

    // Copy plan, fixed for the whole K loop: thread tid issues chunk tid + u * THREADS of each region.
    // Sources are kept as group-0 pointers (plus a validity flag for zero fill past N or M), so a stage
    // costs one 64-bit add per chunk instead of recomputing tile/token indices and products each group.
    constexpr int UW = (CH_W + THREADS - 1) / THREADS, UA = (CH_A + THREADS - 1) / THREADS;
    const uint4 *wsrc[UW];
    bool wok[UW];
#pragma unroll
    for (int u = 0; u < UW; ++u) {
        const int i = tid + u * THREADS, tile = i / 96, j = i % 96;
        wok[u] = rt0 + tile < Rt;
        wsrc[u] = wt + ((long long)(wok[u] ? rt0 + tile : 0) * G) * 96 + j;
    }
    const uint4 *asrc[UA];
    bool aok[UA];
#pragma unroll
    for (int u = 0; u < UA; ++u) {
        const int q = tid + u * THREADS, tt = q >> 3, c = q & 7;
        aok[u] = t0 + tt < M;
        asrc[u] = act + ((long long)(aok[u] ? t0 + tt : 0) * G) * 8 + c;
    }
    const bool sok = tid < CH_SW && rt0 + (tid >> 1) < Rt;
    const uint4 *ssrc = reinterpret_cast<const uint4 *>(ws) + ((long long)(sok ? rt0 + (tid >> 1) : 0) * G) * 2 + (tid & 1);
    const bool aaok = tid < CH_SA && t0 + 4 * tid < ldsa;
    const float *sasrc = sa + (aaok ? t0 + 4 * tid : 0);

    auto load_stage = [&](int stage, int g) {
        const u32 sb = sbase + stage * STAGE;
#pragma unroll
        for (int u = 0; u < UW; ++u) {
            const int i = tid + u * THREADS;
            if ((u + 1) * THREADS <= CH_W || i < CH_W) cp_async16(sb + i * 16, wsrc[u] + (long long)g * 96, wok[u]);
        }
#pragma unroll
        for (int u = 0; u < UA; ++u) {
            const int q = tid + u * THREADS, tt = q >> 3, c = q & 7;
            if ((u + 1) * THREADS <= CH_A || q < CH_A) cp_async16(sb + OFF_A + tt * 128 + ((c ^ (tt & 7)) * 16), asrc[u] + (long long)g * 8, aok[u]);
        }
        if (tid < CH_SW) cp_async16(sb + OFF_SW + tid * 16, ssrc + (long long)g * 2, sok);
        if (tid < CH_SA) cp_async16(sb + OFF_SA + tid * 16, sasrc + (long long)g * ldsa, aaok);
    };

    float acc[MT][NT][4];
#pragma unroll
    for (int mt = 0; mt < MT; ++mt)
#pragma unroll
        for (int nt = 0; nt < NT; ++nt)
#pragma unroll
            for (int c = 0; c < 4; ++c) acc[mt][nt][c] = 0.0f;

#pragma unroll
    for (int s = 0; s < STAGES - 1; ++s) {
        if (s < G) load_stage(s, s);
        cp_async_commit();
    }
    for (int g = 0; g < G; ++g) {
        cp_async_wait<STAGES - 2>();
        __syncthreads();
        {
            const int gn = g + STAGES - 1;
            if (gn < G) load_stage(gn % STAGES, gn);
            cp_async_commit();
        }
        const unsigned char *sb = reinterpret_cast<const unsigned char *>(smem) + (g % STAGES) * STAGE;
        u32 a[NT][8];
        float sav[NT][2];
#pragma unroll
        for (int nt = 0; nt < NT; ++nt) {
            const int tt = wtk * NT * 8 + nt * 8 + gid;
            const uint4 *rec = reinterpret_cast<const uint4 *>(sb + OFF_A + tt * 128);
            const uint4 x0 = rec[(2 * tig) ^ (tt & 7)], x1 = rec[(2 * tig + 1) ^ (tt & 7)];
            a[nt][0] = x0.x; a[nt][1] = x0.y; a[nt][2] = x0.z; a[nt][3] = x0.w;
            a[nt][4] = x1.x; a[nt][5] = x1.y; a[nt][6] = x1.z; a[nt][7] = x1.w;
            const float2 s2 = *reinterpret_cast<const float2 *>(sb + OFF_SA + (wtk * NT * 8 + nt * 8 + 2 * tig) * 4);
            sav[nt][0] = s2.x;
            sav[nt][1] = s2.y;
        }
#pragma unroll
        for (int mt = 0; mt < MT; ++mt) {
            const int tl = wr * MT + mt;
            const uint4 *tile = reinterpret_cast<const uint4 *>(sb + tl * 1536);
            const uint4 q0 = tile[lane], q1 = tile[32 + lane], q2 = tile[64 + lane];
            const u32 w[12] = {q0.x, q0.y, q0.z, q0.w, q1.x, q1.y, q1.z, q1.w, q2.x, q2.y, q2.z, q2.w};
            const u16 *sws = reinterpret_cast<const u16 *>(sb + OFF_SW + tl * 32);
            const float swLo = h2f(sws[gid]), swHi = h2f(sws[gid + 8]);
#pragma unroll
            for (int nt = 0; nt < NT; ++nt) {
                int p[4];
                tile_group_product<PATH, ABITS>(w, a[nt], p);
#pragma unroll
                for (int c = 0; c < 4; ++c)
                    acc[mt][nt][c] = epilogue_add(acc[mt][nt][c], p[c], c < 2 ? swLo : swHi, sav[nt][c & 1]);
                if (WITHP) {
#pragma unroll
                    for (int c = 0; c < 4; ++c) {
                        const int r = (rt0 + tl) * 16 + gid + 8 * (c >> 1);
                        const int t = t0 + wtk * NT * 8 + nt * 8 + 2 * tig + (c & 1);
                        if (r < N && t < M) P[((long long)t * N + r) * G + g] = p[c] >> PathShift<PATH>::value;
                    }
                }
            }
        }
    }
    cp_async_wait<0>();
#pragma unroll
    for (int mt = 0; mt < MT; ++mt)
#pragma unroll
        for (int nt = 0; nt < NT; ++nt)
#pragma unroll
            for (int c = 0; c < 4; ++c) {
                const int r = (rt0 + wr * MT + mt) * 16 + gid + 8 * (c >> 1);
                const int t = t0 + wtk * NT * 8 + nt * 8 + 2 * tig + (c & 1);
                if constexpr (IsF32<OutT>::value) {
                    if (r < N && t < M) y[(long long)t * N + r] = PathShift<PATH>::value ? acc[mt][nt][c] * 0.25f : acc[mt][nt][c];
                } else {
                    if (r < N && t < M) store_out(y, (long long)t * N + r, PathShift<PATH>::value ? acc[mt][nt][c] * 0.25f : acc[mt][nt][c]);
                }
            }
}

// ------------------------------------------------------------------------------ entry points
#define GEMM_ARGS_T(OUT) const uint4 *__restrict__ wt, const u16 *__restrict__ ws, const uint4 *__restrict__ act, \
    const float *__restrict__ sa, int ldsa, OUT *__restrict__ y, int *__restrict__ P, int M, int N, int G, int gps
#define GEMM_ARGS GEMM_ARGS_T(float)

// Each GEMM/GEMV entry point comes twice: `name` (production) and `name_p`, which also writes the int32
// group partials P (for exactness tests); the two share every line of the product and the epilogue.
#define DEF_GEMV(name, PATH, AB, NT) \
    extern "C" __global__ void __launch_bounds__(GEMV_WARPS * 32) name(GEMM_ARGS) { \
        gemv_body<PATH, AB, NT, false>(wt, ws, act, sa, ldsa, y, P, M, N, G, gps); } \
    extern "C" __global__ void __launch_bounds__(GEMV_WARPS * 32) name##_p(GEMM_ARGS) { \
        gemv_body<PATH, AB, NT, true>(wt, ws, act, sa, ldsa, y, P, M, N, G, gps); }

#define DEF_GEMM_B(name, PATH, AB, WR, WT, MT, NT, ST, MINB) \
    extern "C" __global__ void __launch_bounds__(WR * WT * 32, MINB) name(GEMM_ARGS) { \
        gemm_body<PATH, AB, WR, WT, MT, NT, ST, false>(wt, ws, act, sa, ldsa, y, P, M, N, G); } \
    extern "C" __global__ void __launch_bounds__(WR * WT * 32, MINB) name##_p(GEMM_ARGS) { \
        gemm_body<PATH, AB, WR, WT, MT, NT, ST, true>(wt, ws, act, sa, ldsa, y, P, M, N, G); }
#define DEF_GEMM(name, PATH, AB, WR, WT, MT, NT, ST) DEF_GEMM_B(name, PATH, AB, WR, WT, MT, NT, ST, 1)

// 16-bit output twins `name_f16` / `name_bf16` (same argument list, y points to 16-bit elements; P unused):
// the same body instantiated with another OutT, so the fp32 entry points above are unchanged.
#define DEF_GEMV_OUT(name, PATH, AB, NT) \
    extern "C" __global__ void __launch_bounds__(GEMV_WARPS * 32) name##_f16(GEMM_ARGS_T(OutF16)) { \
        gemv_body<PATH, AB, NT, false, OutF16>(wt, ws, act, sa, ldsa, y, P, M, N, G, gps); } \
    extern "C" __global__ void __launch_bounds__(GEMV_WARPS * 32) name##_bf16(GEMM_ARGS_T(OutBf16)) { \
        gemv_body<PATH, AB, NT, false, OutBf16>(wt, ws, act, sa, ldsa, y, P, M, N, G, gps); }
#define DEF_GEMM_OUT(name, PATH, AB, WR, WT, MT, NT, ST, MINB) \
    extern "C" __global__ void __launch_bounds__(WR * WT * 32, MINB) name##_f16(GEMM_ARGS_T(OutF16)) { \
        gemm_body<PATH, AB, WR, WT, MT, NT, ST, false, OutF16>(wt, ws, act, sa, ldsa, y, P, M, N, G); } \
    extern "C" __global__ void __launch_bounds__(WR * WT * 32, MINB) name##_bf16(GEMM_ARGS_T(OutBf16)) { \
        gemm_body<PATH, AB, WR, WT, MT, NT, ST, false, OutBf16>(wt, ws, act, sa, ldsa, y, P, M, N, G); }

// Ordered GEMV (decode, M <= 8): exact, unsplit, every warp of a block on one row tile (see gemv_ord_body).
#define ORD_RECORDS OrdActRecords{act, sa, ldsa, M, G}
#define DEF_GEMV_ORD(name) \
    extern "C" __global__ void __launch_bounds__(ORD_WARPS * 32, ORD_MIN_BLOCKS) name(GEMM_ARGS) { \
        gemv_ord_body<false>(ORD_RECORDS, OrdStore<float>{y, N}, wt, ws, P, M, N, G); } \
    extern "C" __global__ void __launch_bounds__(ORD_WARPS * 32, ORD_MIN_BLOCKS) name##_p(GEMM_ARGS) { \
        gemv_ord_body<true>(ORD_RECORDS, OrdStore<float>{y, N}, wt, ws, P, M, N, G); } \
    extern "C" __global__ void __launch_bounds__(ORD_WARPS * 32, ORD_MIN_BLOCKS) name##_f16(GEMM_ARGS_T(OutF16)) { \
        gemv_ord_body<false>(ORD_RECORDS, OrdStore<OutF16>{y, N}, wt, ws, P, M, N, G); } \
    extern "C" __global__ void __launch_bounds__(ORD_WARPS * 32, ORD_MIN_BLOCKS) name##_bf16(GEMM_ARGS_T(OutBf16)) { \
        gemv_ord_body<false>(ORD_RECORDS, OrdStore<OutBf16>{y, N}, wt, ws, P, M, N, G); } \
    extern "C" __global__ void __launch_bounds__(ORD_WARPS * 32) name##_deep(GEMM_ARGS) { \
        gemv_ord_body<false, true>(ORD_RECORDS, OrdStore<float>{y, N}, wt, ws, P, M, N, G); }
DEF_GEMV_ORD(flexq_gemv_i8_ord)

// GEMV: name suffix ntX = 8X tokens per warp.
DEF_GEMV(flexq_gemv_btc_a6_nt1, PATH_BTC, 6, 1)
DEF_GEMV(flexq_gemv_btc_a8_nt1, PATH_BTC, 8, 1)
DEF_GEMV(flexq_gemv_btc_a6_nt2, PATH_BTC, 6, 2)
DEF_GEMV(flexq_gemv_btc_a8_nt2, PATH_BTC, 8, 2)
DEF_GEMV(flexq_gemv_btc_a6_nt4, PATH_BTC, 6, 4)
DEF_GEMV(flexq_gemv_btc_a8_nt4, PATH_BTC, 8, 4)
DEF_GEMV(flexq_gemv_paper_a6_nt1, PATH_PAPER, 6, 1)
DEF_GEMV(flexq_gemv_paper_a8_nt1, PATH_PAPER, 8, 1)
DEF_GEMV(flexq_gemv_i8_nt1, PATH_I8, 8, 1)
DEF_GEMV(flexq_gemv_i8_nt2, PATH_I8, 8, 2)
DEF_GEMV(flexq_gemv_i8_nt4, PATH_I8, 8, 4)

// GEMM: name suffix ROWSxTOKS[wW] (W warps when not 8); the host must pass dynamic shared memory
// STAGES * (ROWS*98 + TOKS*132) bytes. Config list (WR, WT, MT, NT, STAGES), mirrored by the host tables.
DEF_GEMM(flexq_gemm_i8_128x128, PATH_I8, 8, 2, 4, 4, 4, 4)
DEF_GEMM(flexq_gemm_i8_128x128w16, PATH_I8, 8, 4, 4, 2, 4, 4)
DEF_GEMM(flexq_gemm_i8_256x64, PATH_I8, 8, 4, 2, 4, 4, 3)
DEF_GEMM(flexq_gemm_i8_64x128, PATH_I8, 8, 2, 4, 2, 4, 4)
DEF_GEMM_B(flexq_gemm_i8_64x128b2, PATH_I8, 8, 2, 4, 2, 4, 4, 2)  // two blocks per SM (registers capped at 128)
DEF_GEMM(flexq_gemm_i8_128x32, PATH_I8, 8, 4, 1, 2, 4, 4)
DEF_GEMM(flexq_gemm_btc_a6_128x64, PATH_BTC, 6, 4, 2, 2, 4, 3)
DEF_GEMM(flexq_gemm_btc_a8_128x64, PATH_BTC, 8, 4, 2, 2, 4, 3)

// 16-bit output twins of the INT8-MMA kernels (the ones the dispatcher picks; KernelSpec.outputTypes).
DEF_GEMV_OUT(flexq_gemv_i8_nt1, PATH_I8, 8, 1)
DEF_GEMV_OUT(flexq_gemv_i8_nt2, PATH_I8, 8, 2)
DEF_GEMV_OUT(flexq_gemv_i8_nt4, PATH_I8, 8, 4)
DEF_GEMM_OUT(flexq_gemm_i8_128x128, PATH_I8, 8, 2, 4, 4, 4, 4, 1)
DEF_GEMM_OUT(flexq_gemm_i8_128x128w16, PATH_I8, 8, 4, 4, 2, 4, 4, 1)
DEF_GEMM_OUT(flexq_gemm_i8_256x64, PATH_I8, 8, 4, 2, 4, 4, 3, 1)
DEF_GEMM_OUT(flexq_gemm_i8_64x128, PATH_I8, 8, 2, 4, 2, 4, 4, 1)
DEF_GEMM_OUT(flexq_gemm_i8_64x128b2, PATH_I8, 8, 2, 4, 2, 4, 4, 2)
DEF_GEMM_OUT(flexq_gemm_i8_128x32, PATH_I8, 8, 4, 1, 2, 4, 4, 1)

extern "C" __global__ void __launch_bounds__(256) flexq_quantize_a6(const float *__restrict__ x, int ldx, int M, int K, int G,
        u32 *__restrict__ a8, u32 *__restrict__ ap, float *__restrict__ sa, int ldsa) {
    quantize_body<31>(x, ldx, M, K, G, a8, ap, sa, ldsa);
}
extern "C" __global__ void __launch_bounds__(256) flexq_quantize_a8(const float *__restrict__ x, int ldx, int M, int K, int G,
        u32 *__restrict__ a8, u32 *__restrict__ ap, float *__restrict__ sa, int ldsa) {
    quantize_body<127>(x, ldx, M, K, G, a8, ap, sa, ldsa);
}
// natural-order int8 records (the wgmma kernels' input; ap must be null: the planes form has one order)
extern "C" __global__ void __launch_bounds__(256) flexq_quantize_a6_nat(const float *__restrict__ x, int ldx, int M, int K, int G,
        u32 *__restrict__ a8, u32 *__restrict__ ap, float *__restrict__ sa, int ldsa) {
    quantize_body<31, true>(x, ldx, M, K, G, a8, ap, sa, ldsa);
}
extern "C" __global__ void __launch_bounds__(256) flexq_quantize_a8_nat(const float *__restrict__ x, int ldx, int M, int K, int G,
        u32 *__restrict__ a8, u32 *__restrict__ ap, float *__restrict__ sa, int ldsa) {
    quantize_body<127, true>(x, ldx, M, K, G, a8, ap, sa, ldsa);
}
extern "C" __global__ void __launch_bounds__(256) flexq_repack(const u8 *__restrict__ fq6, int R, int K, int G,
        u32 *__restrict__ wbtc, u32 *__restrict__ wi8, u16 *__restrict__ ws) {
    repack_body(fq6, R, K, G, wbtc, wi8, ws);
}

// ------------------------------------------------------------------- W6A16 (weights only, fp32 x)
// The contract's W6A16 mode: y[t][r] = sum_k (wcode[r][k] * sw[r][g]) * x[t][k] in fp32, straight from
// the FQ6 bytes. One warp per (t, r), lanes stride over k, tree sum at the end (so the order differs
// from a sequential sum by rounding only). Correctness path, not tuned.
extern "C" __global__ void __launch_bounds__(256) flexq_w6a16(const u8 *__restrict__ fq6, int R, int K, int G,
        const float *__restrict__ x, int ldx, float *__restrict__ y, int M) {
    pdl_launch();
    pdl_wait();
    const long long warp = ((long long)blockIdx.x * blockDim.x + threadIdx.x) >> 5;
    const int lane = threadIdx.x & 31;
    if (warp >= (long long)M * R) return;
    const int t = (int)(warp / R), r = (int)(warp % R);
    const u8 *scales = fq6 + (long long)R * G * 96 + (long long)r * G * 2;
    float acc = 0.0f;
    for (int k = lane; k < K; k += 32) {
        const int g = k >> 7;
        const float sw = h2f((u16)(scales[2 * g] | (scales[2 * g + 1] << 8)));
        const float w = __fmul_rn((float)fq6_code(fq6, R, K, G, r, g, k & 127), sw);
        acc = __fadd_rn(acc, __fmul_rn(w, x[(long long)t * ldx + k]));
    }
#pragma unroll
    for (int o = 16; o > 0; o >>= 1) acc += __shfl_xor_sync(FULL_MASK, acc, o);
    if (lane == 0) y[(long long)t * R + r] = acc;
}
