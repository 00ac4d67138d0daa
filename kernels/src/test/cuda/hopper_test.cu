// Test and benchmark of hopper.cu's wgmma GEMM (sm_90a). Not part of the Java build; tools/gpu/hopper-check.sh
// builds and runs it. Build (cuBLAS, NVRTC and the driver are dlopen'ed at run time):
//   nvcc -O2 -std=c++17 -gencode=arch=compute_90a,code=sm_90a -Xcompiler -ffp-contract=off -cudart static \
//        -o hopper_test hopper_test.cu -ldl -lpthread
// Modes:
//   list                          the wgmma configurations, one name a line
//   probe                         one wgmma per k-step on fixed data: checks the operand layouts without a pipeline
//                                 (register A as the WG kernels; then smem A after hs_unpack_tile as the `_su` kernels)
//   test <config..>               exactness of the configurations on ragged shapes (the script reruns them one per
//                                 process if a fault or hang ends the joint run, so one config does not hide the others)
//   bench <csv> <shape> [config..] cuBLAS FP16 / INT8, the flexq.cu INT8-MMA kernels (not with HOPPER_NO_OLD set)
//                                 and the given wgmma configs
//   nvrtc <program.cu> <arch>     NVRTC build of the concatenated program (as KernelModule) and name lookup
// Reference: weight codes and scales come from the same hash as the device generator (host copies, not read back
// from the kernel under test); activation codes and scales are read back from the quantizer's records (the
// quantizer is checked bit for bit by harness.cu) and decoded on the host with the record formula. Partials are
// summed in int32 on the host; y_ref follows the contract's rounding (fp32, no contraction, increasing g).
#include <cuda_runtime.h>
#include <cuda.h>
#include <dlfcn.h>
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <functional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "../../main/resources/io/flexq/kernels/flexq.cu"
#define FLEXQ_HOPPER_TMA 1  // the `_tma` configs (harness only, see hopper.cu)
#include "../../main/resources/io/flexq/kernels/hopper.cu"

static void ck(cudaError_t e, const char *what, int line) {
    if (e != cudaSuccess) {
        fprintf(stderr, "CUDA error %s (%d) at line %d: %s\n", cudaGetErrorString(e), (int)e, line, what);
        printf("CUDA-ERROR %s at line %d: %s\n", cudaGetErrorString(e), line, what);
        fflush(stdout);
        exit(3);
    }
}
#define CK(x) ck((x), #x, __LINE__)
static inline long long cdiv(long long a, long long b) { return (a + b - 1) / b; }

// ------------------------------------------------------------------------------ deterministic data
__host__ __device__ inline uint64_t mix64(uint64_t x) {
    x += 0x9E3779B97F4A7C15ull;
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
    x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
    return x ^ (x >> 31);
}
__host__ __device__ inline int wcode(uint64_t seed, int r, int k, int K) {  // [-32, 31], 0 past K
    if (k >= K) return 0;
    return (int)(mix64(seed * 0x100000001B3ull + (uint64_t)r * 1000003ull + (uint64_t)k) & 63) - 32;
}
__host__ __device__ inline uint16_t wscale(uint64_t seed, int r, int g) {  // positive normal fp16 2^-12 .. 2^-5
    uint64_t h = mix64(seed ^ 0xABCDEF12345ull ^ ((uint64_t)r << 24) ^ (uint64_t)g);
    return (uint16_t)(((3 + (uint32_t)(h % 8)) << 10) | ((h >> 8) & 0x3FF));
}
__device__ inline float xval(uint64_t seed, int t, int k) {  // |x| in [0.01, 1], one in 61 up to 40
    uint64_t h = mix64(seed * 31ull + ((uint64_t)t << 32) + (uint64_t)k);
    float v = __fadd_rn(0.01f, __fmul_rn(0.99f, (float)((h >> 40) & 0xFFFFFF) / 16777216.0f));
    if ((h & 0xFF) % 61 == 0) v *= 40.0f;
    return (h >> 20) & 1 ? -v : v;
}
__global__ void gen_fq6(uint8_t *fq6, int R, int K, int G, uint64_t seed) {
    long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= (long long)R * G * 32) return;
    int j = (int)(i % 32);
    long long rg = i / 32;
    int g = (int)(rg % G), r = (int)(rg / G);
    uint32_t word = 0;
    for (int q = 0; q < 4; ++q) word |= (uint32_t)(wcode(seed, r, g * 128 + 4 * j + q, K) & 63) << (6 * q);
    uint8_t *p = fq6 + rg * 96 + 3 * j;
    p[0] = word & 0xFF; p[1] = (word >> 8) & 0xFF; p[2] = (word >> 16) & 0xFF;
    if (j == 0) {
        uint16_t s = wscale(seed, r, g);
        uint8_t *q = fq6 + (long long)R * G * 96 + rg * 2;
        q[0] = s & 0xFF; q[1] = s >> 8;
    }
}
__global__ void gen_x(float *x, int M, int K, uint64_t seed) {
    long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    if (i < (long long)M * K) x[i] = xval(seed, (int)(i / K), (int)(i % K));
}
__global__ void gen_f16(uint16_t *p, long long n, uint64_t seed) {
    long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= n) return;
    uint64_t h = mix64(seed + i);
    p[i] = (uint16_t)(((h & 1) << 15) | ((10 + (h >> 8) % 5) << 10) | ((h >> 16) & 0x3FF));
}
__global__ void gen_i8(int8_t *p, long long n, uint64_t seed) {
    long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) p[i] = (int8_t)((mix64(seed + i) & 63) - 32);
}

static float h2f_host(uint16_t h) {
    uint32_t s = (uint32_t)(h >> 15) << 31, e = (h >> 10) & 31, m = h & 0x3FF, bits;
    if (e == 0) {
        if (m == 0) bits = s;
        else { int ee = -1; do { ++ee; m <<= 1; } while (!(m & 0x400)); bits = s | ((uint32_t)(127 - 15 - ee) << 23) | ((m & 0x3FF) << 13); }
    } else if (e == 31) bits = s | 0x7F800000 | (m << 13);
    else bits = s | ((e + 112) << 23) | (m << 13);
    float f; memcpy(&f, &bits, 4); return f;
}
static uint16_t f2h_rne_host(float f) {  // fp32 -> fp16 bits, round to nearest even (normal/subnormal/inf)
    uint32_t x; memcpy(&x, &f, 4);
    uint32_t sign = (x >> 16) & 0x8000; int32_t e = (int32_t)((x >> 23) & 0xFF) - 127 + 15; uint32_t m = x & 0x7FFFFF;
    if (((x >> 23) & 0xFF) == 0xFF) return (uint16_t)(sign | 0x7C00 | (m ? 0x200 : 0));
    if (e >= 31) return (uint16_t)(sign | 0x7C00);
    if (e <= 0) {
        if (e < -10) return (uint16_t)sign;
        m |= 0x800000; int shift = 14 - e; uint32_t r = m >> shift, rem = m & ((1u << shift) - 1), half = 1u << (shift - 1);
        if (rem > half || (rem == half && (r & 1))) ++r;
        return (uint16_t)(sign | r);
    }
    uint32_t r = ((uint32_t)e << 10) | (m >> 13), rem = m & 0x1FFF;
    if (rem > 0x1000 || (rem == 0x1000 && (r & 1))) ++r;
    return (uint16_t)(sign | r);
}

static void parallel_for(int n, const std::function<void(int)> &f) {
    int nt = std::max(1u, std::thread::hardware_concurrency());
    std::vector<std::thread> th;
    for (int w = 0; w < nt; ++w) th.emplace_back([&, w] { for (int i = w; i < n; i += nt) f(i); });
    for (auto &t : th) t.join();
}

template <typename T>
struct DBuf {
    T *p = nullptr; size_t n = 0;
    DBuf() {}
    explicit DBuf(size_t count) : n(count) { CK(cudaMalloc(&p, std::max<size_t>(count, 1) * sizeof(T))); }
    ~DBuf() { if (p) cudaFree(p); }
    DBuf(const DBuf &) = delete;
    DBuf(DBuf &&o) noexcept { std::swap(p, o.p); std::swap(n, o.n); }
    DBuf &operator=(DBuf &&o) noexcept { std::swap(p, o.p); std::swap(n, o.n); return *this; }
    std::vector<T> get() const { std::vector<T> h(n); CK(cudaMemcpy(h.data(), p, n * sizeof(T), cudaMemcpyDeviceToHost)); return h; }
    size_t bytes() const { return n * sizeof(T); }
};

// --------------------------------------------------------------------------------- kernel registry
typedef void (*GemmFn)(const uint4 *, const u16 *, const uint4 *, const float *, int, float *, int *, int, int, int, int);
typedef void (*GemmF16Fn)(const uint4 *, const u16 *, const uint4 *, const float *, int, OutF16 *, int *, int, int, int, int);
struct WgVar { const char *name; GemmFn fn, fnP; GemmF16Fn fnH; int rows, toks, threads, smem, minb, launchRegs; bool exact; };
#define HT_VAR(n, WGR, WGC, BN, ST, MINB, EX, DB, BULK) \
    WgVar{#n, n, n##_p, n##_f16, HpCfg<WGR, WGC, BN, ST, MINB>::ROWS, HpCfg<WGR, WGC, BN, ST, MINB>::TOKS, \
          HpCfg<WGR, WGC, BN, ST, MINB>::THREADS, HpCfg<WGR, WGC, BN, ST, MINB>::SMEM, MINB, \
          HpCfg<WGR, WGC, BN, ST, MINB>::LAUNCH_REGS, EX},
// the smem-unpack (`_su`) kernels: hopper.cu's FLEXQ_WS_CONFIGS, same entry-point signature, one block per SM
#define HT_SVAR(n, WGR, BN, ST, UL, PR, PK, EX, DB) \
    WgVar{#n, n, n##_p, n##_f16, HsCfg<WGR, BN, ST, UL, PR, PK>::ROWS, HsCfg<WGR, BN, ST, UL, PR, PK>::TOKS, \
          HsCfg<WGR, BN, ST, UL, PR, PK>::THREADS, HsCfg<WGR, BN, ST, UL, PR, PK>::SMEM, 1, HsCfg<WGR, BN, ST, UL, PR, PK>::LAUNCH_REGS, EX},
static std::vector<WgVar> wg_variants() { return {FLEXQ_WG_CONFIGS(HT_VAR) FLEXQ_WS_CONFIGS(HT_SVAR)}; }
static void set_smem(const void *fn, int smem) { CK(cudaFuncSetAttribute(fn, cudaFuncAttributeMaxDynamicSharedMemorySize, smem)); }
// the same for a wgmma config and its twins, reported instead of fatal (a config over the device's shared-memory limit
// is left out; the others still run)
static bool smem_ok(const WgVar &v) {
    for (const void *f : {(const void *)v.fn, (const void *)v.fnP, (const void *)v.fnH}) {
        cudaError_t e = cudaFuncSetAttribute(f, cudaFuncAttributeMaxDynamicSharedMemorySize, v.smem);
        if (e != cudaSuccess) {
            cudaGetLastError();
            printf("  %-22s SMEM %d bytes refused (%s): not launched\n", v.name, v.smem, cudaGetErrorString(e));
            return false;
        }
    }
    return true;
}
// setmaxnreg's register accounting assumes the kernel launches with exactly HpCfg::LAUNCH_REGS registers per thread;
// with fewer the consumers' setmaxnreg.inc would wait forever, so such a build is reported and not launched.
static bool regs_ok(const WgVar &v) {
    for (const void *f : {(const void *)v.fn, (const void *)v.fnP, (const void *)v.fnH}) {
        cudaFuncAttributes at;
        CK(cudaFuncGetAttributes(&at, f));
        if (at.numRegs != v.launchRegs) {
            printf("  %-22s REGS MISMATCH: a twin has %d registers per thread, setmaxnreg accounting assumes %d: not launched\n",
                   v.name, at.numRegs, v.launchRegs);
            return false;
        }
    }
    return true;
}

// the flexq.cu INT8-MMA kernels, for the "before" column
struct OldVar { const char *name; GemmFn fn; bool gemm; int rows, toks, threads, smem; };
static int old_stage(int rows, int toks) { return rows * 96 + rows * 2 + toks * 128 + toks * 4; }
#define OLD_GM(n, wr, wt, mt, nt, st) OldVar{#n, n, true, wr * mt * 16, wt * nt * 8, wr * wt * 32, st * old_stage(wr * mt * 16, wt * nt * 8)}
#define OLD_GV(n, nt) OldVar{#n, n, false, 16 * GEMV_WARPS, 8 * nt, GEMV_WARPS * 32, 0}
static std::vector<OldVar> old_variants() {
    return {OLD_GM(flexq_gemm_i8_128x128, 2, 4, 4, 4, 4), OLD_GM(flexq_gemm_i8_256x64, 4, 2, 4, 4, 3),
            OLD_GM(flexq_gemm_i8_128x32, 4, 1, 2, 4, 4), OLD_GM(flexq_gemm_i8_64x128b2, 2, 4, 2, 4, 4),
            OLD_GV(flexq_gemv_i8_nt2, 2), OLD_GV(flexq_gemv_i8_nt4, 4)};
}

// ------------------------------------------------------------------------------------- problems
struct Weights {  // one N x K FQ6 weight, `copies` times in the WG and I8 layouts
    int N, K, G, Rt;
    std::vector<DBuf<uint32_t>> wg, i8;
    std::vector<DBuf<uint16_t>> ws;
    Weights(int n, int k, uint64_t seed, int copies, bool withI8) : N(n), K(k), G((k + 127) / 128), Rt((n + 15) / 16) {
        DBuf<uint8_t> fq6((size_t)N * G * 98);
        gen_fq6<<<cdiv((long long)N * G * 32, 256), 256>>>(fq6.p, N, K, G, seed);
        CK(cudaGetLastError());
        for (int c = 0; c < copies; ++c) {
            wg.emplace_back((size_t)Rt * G * 384);
            ws.emplace_back((size_t)Rt * G * 16);
            flexq_repack_wg<<<cdiv((long long)Rt * G * 32, 256), 256>>>(fq6.p, N, K, G, wg.back().p, ws.back().p);
            CK(cudaGetLastError());
            if (withI8) {
                i8.emplace_back((size_t)Rt * G * 384);
                DBuf<uint16_t> ws2((size_t)Rt * G * 16);
                flexq_repack<<<cdiv((long long)Rt * G * 32, 256), 256>>>(fq6.p, N, K, G, nullptr, i8.back().p, ws2.p);
                CK(cudaGetLastError());
            }
        }
        CK(cudaDeviceSynchronize());
    }
    double bytes() const { return (double)N * G * 98; }
};

struct Acts {  // M tokens quantized to int8 records (A8 or A6 codes)
    int M, K, G, ldsa, abits;
    DBuf<float> x; DBuf<uint32_t> a8, a8n; DBuf<float> sa, san;  // a8n, san: natural-order records (the `_nat` quantizers)
    Acts(int m, int k, int ab, uint64_t seed) : M(m), K(k), G((k + 127) / 128), ldsa((m + 3) / 4 * 4), abits(ab),
        x((size_t)m * k), a8((size_t)m * G * 32), a8n((size_t)m * G * 32), sa((size_t)G * ldsa), san((size_t)G * ldsa) {
        gen_x<<<cdiv((long long)M * K, 256), 256>>>(x.p, M, K, seed);
        CK(cudaMemset(sa.p, 0, sa.bytes()));
        CK(cudaMemset(san.p, 0, san.bytes()));
        auto fn = ab == 6 ? flexq_quantize_a6 : flexq_quantize_a8;
        fn<<<cdiv((long long)M * G * 32, 256), 256>>>(x.p, K, M, K, G, a8.p, nullptr, sa.p, ldsa);
        CK(cudaGetLastError());
        auto fnn = ab == 6 ? flexq_quantize_a6_nat : flexq_quantize_a8_nat;
        fnn<<<cdiv((long long)M * G * 32, 256), 256>>>(x.p, K, M, K, G, a8n.p, nullptr, san.p, ldsa);
        CK(cudaGetLastError());
        CK(cudaDeviceSynchronize());
    }
    // host copy: codes[t][g*128 + kk] decoded with the record formula, scales[t][g]
    void host(std::vector<int8_t> &codes, std::vector<float> &scales) const {
        auto rec = a8.get(); auto s = sa.get();
        codes.assign((size_t)M * G * 128, 0); scales.assign((size_t)M * G, 0.0f);
        for (int t = 0; t < M; ++t)
            for (int g = 0; g < G; ++g) {
                const uint8_t *b = (const uint8_t *)&rec[((size_t)t * G + g) * 32];
                for (int p = 0; p < 128; ++p) {
                    int tig = p >> 5, ks = (p >> 3) & 3, h = (p >> 2) & 1, bb = p & 3;
                    codes[(size_t)t * G * 128 + g * 128 + ks * 32 + h * 16 + tig * 4 + bb] = (int8_t)b[p];
                }
                scales[(size_t)t * G + g] = s[(size_t)g * ldsa + t];
            }
    }
};

static int g_sms = 132;
// persistent = false: the full grid (one tile per block, as the Java host launches); true: minb blocks per SM,
// each looping over tiles
static dim3 wg_grid(const WgVar &v, int N, int M, bool persistent) {
    if (!persistent) return dim3(cdiv(N, v.rows), cdiv(M, v.toks));
    return dim3((unsigned)std::min<long long>(cdiv(N, v.rows) * cdiv(M, v.toks), (long long)g_sms * v.minb), 1);
}
static void launch_wg(const WgVar &v, const Weights &w, int copy, const Acts &a, float *y, int *P, cudaStream_t st = 0,
                      bool persistent = false) {
    dim3 grid = wg_grid(v, w.N, a.M, persistent);
    (P ? v.fnP : v.fn)<<<grid, v.threads, v.smem, st>>>((const uint4 *)w.wg[copy].p, w.ws[copy].p, (const uint4 *)a.a8.p, a.sa.p,
                                                       a.ldsa, y, P, a.M, w.N, w.G, w.G);
    CK(cudaGetLastError());
}
static void launch_old(const OldVar &v, const Weights &w, int copy, const Acts &a, float *y, int gps, cudaStream_t st = 0) {
    if (v.gemm) {
        dim3 grid(cdiv(w.N, v.rows), cdiv(a.M, v.toks));
        v.fn<<<grid, v.threads, v.smem, st>>>((const uint4 *)w.i8[copy].p, w.ws[copy].p, (const uint4 *)a.a8.p, a.sa.p, a.ldsa, y,
                                              nullptr, a.M, w.N, w.G, w.G);
    } else {
        int splits = (int)cdiv(w.G, gps);
        if (splits > 1) CK(cudaMemsetAsync(y, 0, (size_t)a.M * w.N * 4, st));
        dim3 grid(cdiv(w.Rt, GEMV_WARPS), splits, cdiv(a.M, v.toks));
        v.fn<<<grid, v.threads, 0, st>>>((const uint4 *)w.i8[copy].p, w.ws[copy].p, (const uint4 *)a.a8.p, a.sa.p, a.ldsa, y, nullptr,
                                         a.M, w.N, w.G, gps);
    }
    CK(cudaGetLastError());
}

// host reference of one output from one weight row (codes, scales) and one token (codes, scales): y by the
// contract's rounding, and mag = sum_g |P sw sa| (for the bound)
static void ref_one(const int8_t *wr, const float *sw, const int8_t *xr, const float *sa, int G, int32_t *Pout, float &y, double &mag) {
    float acc = 0.0f; double m = 0.0;
    for (int g = 0; g < G; ++g) {
        int32_t p = 0;
        for (int kk = 0; kk < 128; ++kk) p += (int32_t)wr[g * 128 + kk] * (int32_t)xr[g * 128 + kk];
        if (Pout) Pout[g] = p;
        volatile float s = sw[g] * sa[g];
        volatile float term = (float)p * (float)s;
        acc = acc + (float)term;
        m += std::fabs((double)p * sw[g] * sa[g]);
    }
    y = acc; mag = m;
}
// hopper.cu's stated bound of the FMA epilogue against the contract's reference (first order in u, times 1.001)
static double fma_bound(int G, double mag) { return 1.001 * (G + 1) * std::ldexp(1.0, -23) * mag + 1e-30; }

static void host_weights(uint64_t seed, int N, int K, int G, std::vector<int8_t> &wc, std::vector<float> &sw) {
    wc.assign((size_t)N * G * 128, 0); sw.assign((size_t)N * G, 0.0f);
    parallel_for(N, [&](int r) {
        for (int k = 0; k < G * 128; ++k) wc[(size_t)r * G * 128 + k] = (int8_t)wcode(seed, r, k, K);
        for (int g = 0; g < G; ++g) sw[(size_t)r * G + g] = h2f_host(wscale(seed, r, g));
    });
}

// ------------------------------------------------------------------------------------------ test
// Every case's reference is computed once and each listed configuration checked on it; one line per (case,
// config), then one "TEST <config>: N passed, N failed" line per config.
static int run_test(const std::vector<std::string> &cfgs) {
    std::vector<WgVar> sel;
    int refused = 0;
    for (auto &c : cfgs) {
        bool found = false;
        for (auto &v : wg_variants())
            if (c == v.name) {
                found = true;
                if (!regs_ok(v)) { printf("TEST %s: 0 passed, 1 failed (REGS MISMATCH, not launched)\n", v.name); ++refused; }
                else if (!smem_ok(v)) { printf("TEST %s: 0 passed, 1 failed (SMEM REFUSED, not launched)\n", v.name); ++refused; }
                else sel.push_back(v);
            }
        if (!found) { printf("unknown config %s\n", c.c_str()); return 2; }
    }
    std::vector<int> fails(sel.size(), 0), passes(sel.size(), 0);
    CK(cudaDeviceGetAttribute(&g_sms, cudaDevAttrMultiProcessorCount, 0));
    struct C { int M, N, K, ab; };
    std::vector<C> cases = {
        {16, 128, 128, 8}, {17, 200, 200, 8}, {40, 1000, 1000, 6}, {64, 4096, 1024, 8}, {100, 3000, 777, 8},
        {128, 520, 1100, 8}, {255, 520, 1100, 6}, {300, 256, 8192, 8}, {33, 28672, 512, 8}, {513, 1040, 2048, 8},
        {1024, 640, 1280, 8}, {4096, 384, 1100, 8}, {8192, 136, 384, 8},
    };
    uint64_t seed = 20261206;
    for (auto &c : cases) {
        auto t0 = std::chrono::steady_clock::now();
        const int G = (c.K + 127) / 128;
        Weights w(c.N, c.K, seed, 1, true);
        Acts a(c.M, c.K, c.ab, seed * 7 + 1);
        // natural-order records: the same codes at byte p = k, and the same scales
        long badNat = 0;
        {
            auto r = a.a8.get(), rn = a.a8n.get(); auto s1 = a.sa.get(), s2 = a.san.get();
            for (int t = 0; t < c.M && !badNat; ++t)
                for (int g = 0; g < G; ++g)
                    for (int p = 0; p < 128; ++p) {
                        int tig = p >> 5, ks = (p >> 3) & 3, h = (p >> 2) & 1, bb = p & 3;
                        const uint8_t *b = (const uint8_t *)&r[((size_t)t * G + g) * 32], *bn = (const uint8_t *)&rn[((size_t)t * G + g) * 32];
                        if (bn[ks * 32 + h * 16 + tig * 4 + bb] != b[p]) ++badNat;
                    }
            if (memcmp(s1.data(), s2.data(), s1.size() * 4) != 0) ++badNat;
            printf("  natural-order records A%d M=%d K=%d: %s\n", c.ab, c.M, c.K, badNat ? "FAIL (codes or scales differ)" : "same codes and scales");
        }
        std::vector<int8_t> wc, ac; std::vector<float> sw, sa;
        host_weights(seed, c.N, c.K, G, wc, sw);
        a.host(ac, sa);
        std::vector<int32_t> Pref((size_t)c.M * c.N * G);
        std::vector<float> yref((size_t)c.M * c.N); std::vector<double> mag((size_t)c.M * c.N);
        parallel_for(c.M, [&](int t) {
            for (int r = 0; r < c.N; ++r)
                ref_one(&wc[(size_t)r * G * 128], &sw[(size_t)r * G], &ac[(size_t)t * G * 128], &sa[(size_t)t * G], G,
                        &Pref[((size_t)t * c.N + r) * G], yref[(size_t)t * c.N + r], mag[(size_t)t * c.N + r]);
        });
        DBuf<float> y1((size_t)c.M * c.N), y2((size_t)c.M * c.N);
        DBuf<uint16_t> y3((size_t)c.M * c.N);
        DBuf<float> y4((size_t)c.M * c.N), y5((size_t)c.M * c.N);
        DBuf<int> P((size_t)c.M * c.N * G), P2((size_t)c.M * c.N * G);
        for (size_t vi = 0; vi < sel.size(); ++vi) {
            const WgVar &v = sel[vi];
            CK(cudaMemset(y1.p, 0xFF, y1.bytes())); CK(cudaMemset(y2.p, 0xFF, y2.bytes()));
            CK(cudaMemset(y3.p, 0xFF, y3.bytes())); CK(cudaMemset(P.p, 0xFF, P.bytes()));
            CK(cudaMemset(y4.p, 0xFF, y4.bytes())); CK(cudaMemset(P2.p, 0xFF, P2.bytes()));
            launch_wg(v, w, 0, a, y1.p, P.p);
            launch_wg(v, w, 0, a, y2.p, nullptr);
            launch_wg(v, w, 0, a, y4.p, nullptr, 0, true);        // persistent blocks: same values as the full grid
            launch_wg(v, w, 0, a, y5.p, P2.p, 0, true);
            // the same kernel on the I8 tiles (flexq_repack) with natural-order records: the decoder's form, no WG copy
            DBuf<float> y6((size_t)c.M * c.N); DBuf<int> P6((size_t)c.M * c.N * G);
            CK(cudaMemset(y6.p, 0xFF, y6.bytes())); CK(cudaMemset(P6.p, 0xFF, P6.bytes()));
            {
                dim3 grid = wg_grid(v, w.N, a.M, false);
                v.fnP<<<grid, v.threads, v.smem>>>((const uint4 *)w.i8[0].p, w.ws[0].p, (const uint4 *)a.a8n.p, a.san.p, a.ldsa, y6.p, P6.p,
                                                   a.M, w.N, w.G, w.G);
                CK(cudaGetLastError());
            }
            {
                dim3 grid(cdiv(w.N, v.rows), cdiv(a.M, v.toks));
                v.fnH<<<grid, v.threads, v.smem>>>((const uint4 *)w.wg[0].p, w.ws[0].p, (const uint4 *)a.a8.p, a.sa.p, a.ldsa,
                                                   (OutF16 *)y3.p, nullptr, a.M, w.N, w.G, w.G);
                CK(cudaGetLastError());
            }
            CK(cudaDeviceSynchronize());
            auto hp = P.get(); auto h1 = y1.get(); auto h2 = y2.get(); auto h3 = y3.get(); auto h4 = y4.get(); auto hp2 = P2.get();
            auto hp6 = P6.get(); auto h6 = y6.get();
            long badP = 0, badY = 0, badSame = 0, badH = 0, badPers = 0, badI8 = badNat; char first[300] = "";
            for (size_t i = 0; i < hp.size(); ++i)
                if (hp6[i] != Pref[i] && badI8++ == 0) snprintf(first, sizeof first, "I8 tiles + natural records: P at %zu got %d want %d", i, hp6[i], Pref[i]);
            for (size_t i = 0; i < h1.size(); ++i)
                if (memcmp(&h6[i], &h1[i], 4) != 0 && badI8++ == 0) snprintf(first, sizeof first, "I8 tiles + natural records: y at %zu %.9g vs %.9g", i, h6[i], h1[i]);
            for (size_t i = 0; i < hp.size(); ++i) {
                if (hp[i] != Pref[i] && badP++ < 1) {
                    size_t g = i % G, r = (i / G) % c.N, t = i / G / c.N;
                    snprintf(first, sizeof first, "P[t=%zu][r=%zu][g=%zu] got %d want %d", t, r, g, hp[i], Pref[i]);
                }
                if (hp2[i] != Pref[i] && badPers++ == 0 && !badP)
                    snprintf(first, sizeof first, "persistent P at %zu: got %d want %d", i, hp2[i], Pref[i]);
            }
            double worst = 0.0;  // largest |y - y_ref| / bound
            for (size_t i = 0; i < h1.size(); ++i) {
                double err = std::fabs((double)h1[i] - yref[i]);
                bool ok = v.exact ? memcmp(&h1[i], &yref[i], 4) == 0 : err <= fma_bound(G, mag[i]);
                if (!v.exact) worst = std::max(worst, err / fma_bound(G, mag[i]));
                if (!ok && badY++ == 0 && badP == 0)
                    snprintf(first, sizeof first, "y[t=%zu][r=%zu] got %.9g want %.9g (bound %.3g)", i / c.N, i % c.N, h1[i], yref[i], fma_bound(G, mag[i]));
                if (memcmp(&h1[i], &h2[i], 4) != 0 && badSame++ == 0 && !badP && !badY)
                    snprintf(first, sizeof first, "production y differs from _p y at %zu: %.9g vs %.9g", i, h2[i], h1[i]);
                if (memcmp(&h4[i], &h2[i], 4) != 0 && badPers++ == 0 && !badP && !badY && !badSame)
                    snprintf(first, sizeof first, "persistent y differs from full-grid y at %zu: %.9g vs %.9g", i, h4[i], h2[i]);
                if (h3[i] != f2h_rne_host(h2[i]) && badH++ == 0 && !badP && !badY && !badSame)
                    snprintf(first, sizeof first, "f16 y at %zu: 0x%04x, want RNE(%.9g) = 0x%04x", i, h3[i], h2[i], f2h_rne_host(h2[i]));
            }
            bool ok = !badP && !badY && !badSame && !badH && !badPers && !badI8;
            printf("  %-22s A%d M=%-5d N=%-6d K=%-5d P %s (%ld bad)  y %s (%ld bad, max err/bound %.3f)  prod==_p %s  f16 %s  persistent %s  i8+natural %s  %.1fs %s\n",
                   v.name, c.ab, c.M, c.N, c.K, badP ? "FAIL" : "exact", badP, badY ? "FAIL" : (v.exact ? "exact" : "bounded"), badY, worst,
                   badSame ? "NO" : "yes", badH ? "FAIL" : "ok", badPers ? "FAIL" : "same", badI8 ? "FAIL" : "same",
                   std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(), first);
            fflush(stdout);
            ok ? ++passes[vi] : ++fails[vi];
        }
        ++seed;
    }
    int anyFail = refused != 0;  // a config not launched (registers, shared memory) fails too
    for (size_t vi = 0; vi < sel.size(); ++vi) {
        printf("TEST %s: %d passed, %d failed\n", sel[vi].name, passes[vi], fails[vi]);
        anyFail |= fails[vi] != 0;
    }
    return anyFail;
}

// ------------------------------------------------------------------------------------------ bench
typedef int (*cublasCreate_t)(void **);
typedef int (*cublasGemmEx_t)(void *, int, int, int, int, int, const void *, const void *, int, int, const void *, int, int,
                              const void *, void *, int, int, int, int);
static void *dl(const std::vector<const char *> &names) {
    for (auto n : names) if (void *h = dlopen(n, RTLD_NOW | RTLD_GLOBAL)) return h;
    return nullptr;
}
struct Timer {
    std::vector<cudaEvent_t> ev;
    explicit Timer(int n) : ev(2 * n) { for (auto &e : ev) CK(cudaEventCreate(&e)); }
    double median_us(int warm, int runs, const std::function<void(int)> &f) {
        for (int i = 0; i < warm; ++i) f(i);
        for (int i = 0; i < runs; ++i) { CK(cudaEventRecord(ev[2 * i])); f(warm + i); CK(cudaEventRecord(ev[2 * i + 1])); }
        CK(cudaDeviceSynchronize());
        std::vector<double> t(runs);
        for (int i = 0; i < runs; ++i) { float ms; CK(cudaEventElapsedTime(&ms, ev[2 * i], ev[2 * i + 1])); t[i] = ms * 1000.0; }
        std::sort(t.begin(), t.end());
        return t[runs / 2];
    }
};

// 24 sampled outputs against the host reference: exact (bit for bit) or within the FMA bound (mode 1) or the
// split-K bound (mode 2). rec / sad: host copies of the activation records and scales.
static const char *spot_check(const Weights &w, const Acts &a, const std::vector<uint32_t> &rec, const std::vector<float> &sad,
                              const float *yd, int mode, uint64_t wseed) {
    const int M = a.M, N = w.N, K = w.K, G = w.G;
    for (int s = 0; s < 24; ++s) {
        int t = (int)(mix64(s * 3 + 1) % M), r = (int)(mix64(s * 3 + 2) % N);
        std::vector<int8_t> wc((size_t)G * 128), ac((size_t)G * 128);
        std::vector<float> sw(G), sa(G);
        for (int k = 0; k < G * 128; ++k) wc[k] = (int8_t)wcode(wseed, r, k, K);
        for (int g = 0; g < G; ++g) {
            sw[g] = h2f_host(wscale(wseed, r, g));
            sa[g] = sad[(size_t)g * a.ldsa + t];
            const uint8_t *b = (const uint8_t *)&rec[((size_t)t * G + g) * 32];
            for (int p = 0; p < 128; ++p)
                ac[g * 128 + ((p >> 3) & 3) * 32 + ((p >> 2) & 1) * 16 + (p >> 5) * 4 + (p & 3)] = (int8_t)b[p];
        }
        float yr; double mag;
        ref_one(wc.data(), sw.data(), ac.data(), sa.data(), G, nullptr, yr, mag);
        float got;
        CK(cudaMemcpy(&got, yd + (size_t)t * N + r, 4, cudaMemcpyDeviceToHost));
        double bound = mode == 1 ? fma_bound(G, mag) : G * std::ldexp(1.0, -22) * mag + 1e-30;
        bool ok = mode == 0 ? memcmp(&got, &yr, 4) == 0 : std::fabs((double)got - yr) <= bound;
        if (!ok) { static char buf[200]; snprintf(buf, sizeof buf, "MISMATCH t=%d r=%d got %.9g want %.9g", t, r, got, yr); return buf; }
    }
    return mode == 0 ? "exact" : "bounded";
}

static int run_bench(const char *csvPath, const char *shapeName, const std::vector<std::string> &cfgs) {
    struct S { const char *name; int N, K; };
    std::vector<S> shapes = {{"8B-o", 4096, 4096}, {"8B-qkv", 6144, 4096}, {"8B-gateup", 28672, 4096}, {"8B-down", 4096, 14336},
                             {"70B-gateup", 57344, 8192}, {"70B-down", 8192, 28672}};
    const S *sp = nullptr;
    for (auto &s : shapes) if (!strcmp(s.name, shapeName)) sp = &s;
    if (!sp) { printf("unknown shape %s\n", shapeName); return 2; }
    const S s = *sp;
    const char *ms = getenv("HOPPER_MS");
    std::vector<int> Ms;
    if (ms) { std::stringstream ss(ms); std::string tok; while (std::getline(ss, tok, ',')) Ms.push_back(atoi(tok.c_str())); }
    else Ms = {16, 32, 64, 128, 256, 512, 1024, 4096};
    FILE *csv = fopen(csvPath, "a");
    void *hb = dl({"libcublas.so.13", "libcublas.so.12", "libcublas.so"});
    cublasGemmEx_t gemmEx = nullptr; void *handle = nullptr;
    if (hb) { ((cublasCreate_t)dlsym(hb, "cublasCreate_v2"))(&handle); gemmEx = (cublasGemmEx_t)dlsym(hb, "cublasGemmEx"); }
    else printf("cuBLAS not found: %s\n", dlerror());
    cudaDeviceProp prop; CK(cudaGetDeviceProperties(&prop, 0));
    g_sms = prop.multiProcessorCount;
    std::vector<WgVar> wvs;
    for (auto &v : wg_variants())
        for (auto &c : cfgs) if (c == v.name && regs_ok(v) && smem_ok(v)) wvs.push_back(v);
    auto ovs = old_variants();
    for (auto &v : ovs) if (v.gemm) set_smem((const void *)v.fn, v.smem);
    const uint64_t wseed = 77;
    const int G = (s.K + 127) / 128;
    double wb = (double)s.N * G * 98;
    int copies = (int)std::min<long long>(8, std::max<long long>(1, cdiv(256ll << 20, (long long)wb)));
    Weights w(s.N, s.K, wseed, copies, true);
    int cf = (int)std::min<long long>(8, std::max<long long>(1, cdiv(256ll << 20, 2ll * s.N * s.K)));
    std::vector<DBuf<uint16_t>> wf16; std::vector<DBuf<int8_t>> wi8;
    for (int c = 0; c < cf; ++c) {
        wf16.emplace_back((size_t)s.N * s.K);
        gen_f16<<<cdiv((long long)s.N * s.K, 256), 256>>>(wf16.back().p, (long long)s.N * s.K, c);
        wi8.emplace_back((size_t)s.N * s.K);
        gen_i8<<<cdiv((long long)s.N * s.K, 256), 256>>>(wi8.back().p, (long long)s.N * s.K, c);
    }
    int Mmax = *std::max_element(Ms.begin(), Ms.end());
    DBuf<uint16_t> xf16((size_t)Mmax * s.K), yf16((size_t)Mmax * s.N);
    DBuf<int8_t> xi8((size_t)Mmax * s.K); DBuf<int32_t> yi32((size_t)Mmax * s.N);
    gen_f16<<<cdiv((long long)Mmax * s.K, 256), 256>>>(xf16.p, (long long)Mmax * s.K, 5);
    gen_i8<<<cdiv((long long)Mmax * s.K, 256), 256>>>(xi8.p, (long long)Mmax * s.K, 6);
    DBuf<float> y((size_t)Mmax * s.N);
    CK(cudaDeviceSynchronize());
    printf("shape %s N=%d K=%d on %s (%d SMs): FQ6 %.1f MB x %d copies, fp16/int8 x %d\n", s.name, s.N, s.K, prop.name,
           prop.multiProcessorCount, wb / 1e6, copies, cf);
    Timer timer(64);
    for (int M : Ms) {
        const double ops = 2.0 * M * s.N * s.K;
        int runs = ops > 2e12 ? 10 : ops > 2e11 ? 20 : 40;
        double best_old = 1e30, best_wg = 1e30, f16us = NAN, i8us = NAN;
        std::string best_old_name = "-", best_wg_name = "-";
        auto row = [&](const char *kernel, double us, const char *check) {
            fprintf(csv, "%s,%d,%d,%d,%s,%.3f,%.3f,%s,%s\n", s.name, s.N, s.K, M, kernel, us, ops / us / 1e6, check, prop.name);
            fflush(csv);
        };
        if (gemmEx) {
            float one = 1.0f, zero = 0.0f; int32_t ione = 1, izero = 0; int st = 0;
            f16us = timer.median_us(3, runs, [&](int i) {
                st |= gemmEx(handle, 1, 0, s.N, M, s.K, &one, wf16[i % cf].p, 2 /*CUDA_R_16F*/, s.K, xf16.p, 2, s.K, &zero,
                             yf16.p, 2, s.N, 68 /*CUBLAS_COMPUTE_32F*/, -1);
            });
            if (st) f16us = NAN;
            row("cublas_fp16", f16us, st ? "status!=0" : "baseline");
            st = 0;
            i8us = timer.median_us(3, runs, [&](int i) {
                st |= gemmEx(handle, 1, 0, s.N, M, s.K, &ione, wi8[i % cf].p, 3 /*CUDA_R_8I*/, s.K, xi8.p, 3, s.K, &izero,
                             yi32.p, 10 /*CUDA_R_32I*/, s.N, 72 /*CUBLAS_COMPUTE_32I*/, -1);
            });
            if (st) i8us = NAN;
            row("cublas_int8", i8us, st ? "status!=0" : "baseline");
        }
        Acts a(M, s.K, 8, 1008);
        const std::vector<uint32_t> rec = a.a8.get();
        const std::vector<float> sad = a.sa.get();
        for (auto &v : ovs) {
            if (getenv("HOPPER_NO_OLD") && *getenv("HOPPER_NO_OLD")) break;  // hopper-check.sh sets it for its `_su` bench process; the other one times them
            if (!v.gemm && M > 64) continue;
            if (v.gemm && M < 32 && v.toks > 32) continue;
            int gps = G;
            if (!v.gemm) {  // the dispatcher's rule: enough warps for every SM
                int splits = std::max(1, std::min(G, prop.multiProcessorCount * 16 / std::max(1, w.Rt)));
                gps = (int)cdiv(G, splits);
            }
            bool split = cdiv(G, gps) > 1;
            CK(cudaMemset(y.p, 0xFF, (size_t)M * s.N * 4));
            launch_old(v, w, 0, a, y.p, gps);
            CK(cudaDeviceSynchronize());
            const char *chk = spot_check(w, a, rec, sad, y.p, split ? 2 : 0, wseed);
            double us = timer.median_us(3, runs, [&](int i) { launch_old(v, w, i % copies, a, y.p, gps); });
            row(v.name, us, chk);
            if (us < best_old && chk[0] != 'M') { best_old = us; best_old_name = v.name; }
        }
        for (auto &v : wvs)
            for (bool pers : {false, true}) {
                if (pers && wg_grid(v, s.N, M, true).x >= wg_grid(v, s.N, M, false).x * wg_grid(v, s.N, M, false).y) continue;
                std::string name = std::string(v.name) + (pers ? "@persist" : "");
                CK(cudaMemset(y.p, 0xFF, (size_t)M * s.N * 4));
                launch_wg(v, w, 0, a, y.p, nullptr, 0, pers);
                CK(cudaDeviceSynchronize());
                const char *chk = spot_check(w, a, rec, sad, y.p, v.exact ? 0 : 1, wseed);
                double us = timer.median_us(3, runs, [&](int i) { launch_wg(v, w, i % copies, a, y.p, nullptr, 0, pers); });
                row(name.c_str(), us, chk);
                printf("    %-10s M=%-5d %-31s %9.2f us %7.1f TOPS %s\n", s.name, M, name.c_str(), us, ops / us / 1e6, chk);
                if (us < best_wg && chk[0] != 'M') { best_wg = us; best_wg_name = name; }
            }
        // compact (the script's stdout is read from its tail): kernel names without the flexq_ prefix
        auto shortName = [](const std::string &n) { return n.rfind("flexq_", 0) == 0 ? n.substr(6) : n; };
        if (best_old > 1e29) best_old = NAN;  // none run (HOPPER_NO_OLD) or none passed
        printf("ROW %-10s M=%-4d fp16 %8.1f int8 %8.1f | old %8.1f %-17s | wg %8.1f %-22s %5.0f TOPS | x_fp16 %4.2f x_int8 %4.2f x_old %4.2f\n",
               s.name, M, f16us, i8us, best_old, shortName(best_old_name).c_str(), best_wg, shortName(best_wg_name).c_str(),
               ops / best_wg / 1e6, f16us / best_wg, i8us / best_wg, best_old / best_wg);
        fflush(stdout);
    }
    fclose(csv);
    return 0;
}

// ------------------------------------------------------------------------------------------ probe
// One wgmma m64n16k32 per k-step j on fixed data, no pipeline: A (64 x 32 int8) from registers in the assumed
// fragment layout, B = 16 activation records in shared memory with the kernel's 128-byte swizzle and descriptor
// (start + 32j bytes). D_j[m][n] must equal sum_q A[m][q] * rec[n][32j + q]. If the GEMM tests fail and this
// passes, the fault is in the pipeline (barriers, copies); if this fails, in the wgmma operand layouts.
__global__ void __launch_bounds__(128) probe_kernel(const int8_t *A, const uint8_t *rec, int *D) {
#if FLEXQ_HOPPER
    __shared__ __align__(1024) uint8_t sRaw[16 * 128 + 1024];
    const u32 raw = (u32)__cvta_generic_to_shared(sRaw), aligned = (raw + 1023u) & ~1023u;
    uint8_t *sB = sRaw + (aligned - raw);  // the descriptor's base must be 1024-aligned (base offset 0)
    const int tid = threadIdx.x, warp = tid >> 5, lane = tid & 31, gid = lane >> 2, tig = lane & 3;
    for (int i = tid; i < 16 * 8; i += 128) {  // chunk c of record n at chunk c ^ (n & 7)
        const int n = i >> 3, c = i & 7;
        for (int b = 0; b < 16; ++b) sB[n * 128 + ((c ^ (n & 7)) << 4) + b] = rec[n * 128 + c * 16 + b];
    }
    hp_fence_async_smem();
    __syncthreads();
    u32 a[4];
    for (int r = 0; r < 4; ++r) {  // a0: row gid, k 4tig..; a1: row gid+8; a2: k+16; a3: both
        const int m = 16 * warp + gid + 8 * (r & 1), k0 = 4 * tig + 16 * (r >> 1);
        u32 v = 0;
        for (int b = 0; b < 4; ++b) v |= (u32)(uint8_t)A[m * 32 + k0 + b] << (8 * b);
        a[r] = v;
    }
    const u64 desc = hp_desc_sw128((u32)__cvta_generic_to_shared(sB));
    for (int j = 0; j < 4; ++j) {
        int d[8];
        for (int i = 0; i < 8; ++i) d[i] = 0;
        hp_wgmma_fence();
        hp_wgmma_n16(d, a[0], a[1], a[2], a[3], desc + 2 * j, 0);
        hp_wgmma_commit();
        hp_wgmma_wait<0>();
        for (int i = 0; i < 8; ++i) {  // d[4jj + 2h + e]: row 16 warp + gid + 8h, column 8jj + 2tig + e
            const int jj = i >> 2, h = (i >> 1) & 1, e = i & 1;
            D[(j * 64 + 16 * warp + gid + 8 * h) * 16 + 8 * jj + 2 * tig + e] = d[i];
        }
    }
#endif
}

// The `_su` kernels' operands without a pipeline: four WG tiles (64 rows x one group, flexq_repack_wg's output) are
// unpacked by hs_unpack_tile (one warp per tile) into the 128-byte-swizzled int8 tile, 16 activation records are
// stored swizzled as in probe_kernel, and one wgmma m64n16k32 with both operands from descriptors runs per k-step j
// (A: hp_desc_sw128(tile) + 2j, B: hp_desc_sw128(records) + 2j). D_j[m][n] must equal
// sum_q 4 * code(m, kperm(32j + q)) * rec[n][32j + q] with the codes from the host generator.
__global__ void __launch_bounds__(128) probe_su_kernel(const uint4 *wg, const uint8_t *rec, int *D) {
#if FLEXQ_HOPPER
    __shared__ __align__(1024) uint8_t sRaw[64 * 128 + 4 * 1536 + 16 * 128 + 1024];
    const u32 raw = (u32)__cvta_generic_to_shared(sRaw), al = (raw + 1023u) & ~1023u;
    const u32 sA = al, sP = al + 64 * 128, sB = sP + 4 * 1536;  // int8 tile, packed tiles, records (all 1024-aligned)
    uint8_t *pB = sRaw + (sB - raw), *pP = sRaw + (sP - raw);
    const int tid = threadIdx.x, warp = tid >> 5, lane = tid & 31, gid = lane >> 2, tig = lane & 3;
    for (int i = tid; i < 4 * 96; i += 128) reinterpret_cast<uint4 *>(pP)[i] = wg[i];  // tiles rt = 0..3 of group 0 (G = 1)
    for (int i = tid; i < 16 * 8; i += 128) {
        const int n = i >> 3, c = i & 7;
        for (int b = 0; b < 16; ++b) pB[n * 128 + ((c ^ (n & 7)) << 4) + b] = rec[n * 128 + c * 16 + b];
    }
    __syncthreads();
    hs_unpack_tile(sP + warp * 1536, sA, warp, lane);
    hp_fence_async_smem();
    __syncthreads();
    for (int j = 0; j < 4; ++j) {
        int d[8];
        for (int i = 0; i < 8; ++i) d[i] = 0;
        hp_wgmma_fence();
        hs_wgmma_ss_n16(d, hp_desc_sw128(sA) + 2 * j, hp_desc_sw128(sB) + 2 * j, 0);
        hp_wgmma_commit();
        hp_wgmma_wait<0>();
        for (int i = 0; i < 8; ++i) {
            const int jj = i >> 2, h = (i >> 1) & 1, e = i & 1;
            D[(j * 64 + 16 * warp + gid + 8 * h) * 16 + 8 * jj + 2 * tig + e] = d[i];
        }
    }
#endif
}

static int run_probe_su() {
    const uint64_t seed = 4242;
    Weights w(64, 128, seed, 1, false);
    std::vector<uint8_t> rec(16 * 128);
    for (size_t i = 0; i < rec.size(); ++i) rec[i] = (uint8_t)(mix64(i + 9191) & 0xFF);
    DBuf<uint8_t> dR(rec.size()); DBuf<int> dD(4 * 64 * 16);
    CK(cudaMemcpy(dR.p, rec.data(), rec.size(), cudaMemcpyHostToDevice));
    CK(cudaMemset(dD.p, 0xFF, dD.bytes()));
    probe_su_kernel<<<1, 128>>>((const uint4 *)w.wg[0].p, dR.p, dD.p);
    CK(cudaGetLastError());
    CK(cudaDeviceSynchronize());
    auto D = dD.get();
    auto kperm = [](int p) { return ((p >> 3) & 3) * 32 + ((p >> 2) & 1) * 16 + (p >> 5) * 4 + (p & 3); };
    int bad = 0;
    for (int j = 0; j < 4; ++j) {
        int badj = 0; char first[160] = "";
        for (int m = 0; m < 64; ++m)
            for (int n = 0; n < 16; ++n) {
                int want = 0;
                for (int q = 0; q < 32; ++q) want += 4 * wcode(seed, m, kperm(32 * j + q), 128) * (int)(int8_t)rec[n * 128 + 32 * j + q];
                int got = D[(j * 64 + m) * 16 + n];
                if (got != want && badj++ == 0) snprintf(first, sizeof first, "D[%d][%d] got %d want %d", m, n, got, want);
            }
        printf("PROBE smem-A (su) k-step %d: %s %s\n", j, badj ? "FAIL" : "ok", first);
        bad += badj;
    }
    return bad ? 1 : 0;
}

static int run_probe() {
    std::vector<int8_t> A(64 * 32);
    std::vector<uint8_t> rec(16 * 128);
    for (size_t i = 0; i < A.size(); ++i) A[i] = (int8_t)((mix64(i + 1) % 255) - 127);
    for (size_t i = 0; i < rec.size(); ++i) rec[i] = (uint8_t)(mix64(i + 7777) & 0xFF);
    DBuf<int8_t> dA(A.size()); DBuf<uint8_t> dR(rec.size()); DBuf<int> dD(4 * 64 * 16);
    CK(cudaMemcpy(dA.p, A.data(), A.size(), cudaMemcpyHostToDevice));
    CK(cudaMemcpy(dR.p, rec.data(), rec.size(), cudaMemcpyHostToDevice));
    CK(cudaMemset(dD.p, 0xFF, dD.bytes()));
    probe_kernel<<<1, 128>>>(dA.p, dR.p, dD.p);
    CK(cudaGetLastError());
    CK(cudaDeviceSynchronize());
    auto D = dD.get();
    int bad = 0;
    for (int j = 0; j < 4; ++j) {
        int badj = 0; char first[160] = "";
        for (int m = 0; m < 64; ++m)
            for (int n = 0; n < 16; ++n) {
                int want = 0;
                for (int q = 0; q < 32; ++q) want += (int)A[m * 32 + q] * (int)(int8_t)rec[n * 128 + 32 * j + q];
                int got = D[(j * 64 + m) * 16 + n];
                if (got != want && badj++ == 0) snprintf(first, sizeof first, "D[%d][%d] got %d want %d", m, n, got, want);
            }
        printf("PROBE k-step %d: %s %s\n", j, badj ? "FAIL" : "ok", first);
        bad += badj;
    }
    return bad ? 1 : 0;
}

// ------------------------------------------------------------------------------------------ NVRTC
typedef int (*nvrtcCreateProgram_t)(void **, const char *, const char *, int, const char *const *, const char *const *);
typedef int (*nvrtcCompileProgram_t)(void *, int, const char *const *);
typedef int (*nvrtcGetSize_t)(void *, size_t *);
typedef int (*nvrtcGetData_t)(void *, char *);
typedef CUresult (*cuModuleLoadData_t)(CUmodule *, const void *);
typedef CUresult (*cuModuleGetFunction_t)(CUfunction *, CUmodule, const char *);

static int run_nvrtc(const char *path, const char *arch) {
    void *hn = dl({"libnvrtc.so.13", "libnvrtc.so.12", "libnvrtc.so"});
    void *hc = dl({"libcuda.so.1", "libcuda.so"});
    if (!hn || !hc) { printf("NVRTC: library not found: %s\n", dlerror()); return 1; }
    auto create = (nvrtcCreateProgram_t)dlsym(hn, "nvrtcCreateProgram");
    auto compile = (nvrtcCompileProgram_t)dlsym(hn, "nvrtcCompileProgram");
    auto logSize = (nvrtcGetSize_t)dlsym(hn, "nvrtcGetProgramLogSize");
    auto getLog = (nvrtcGetData_t)dlsym(hn, "nvrtcGetProgramLog");
    auto cubinSize = (nvrtcGetSize_t)dlsym(hn, "nvrtcGetCUBINSize");
    auto getCubin = (nvrtcGetData_t)dlsym(hn, "nvrtcGetCUBIN");
    std::ifstream f(path); std::stringstream ss; ss << f.rdbuf(); std::string src = ss.str();
    auto t0 = std::chrono::steady_clock::now();
    void *prog = nullptr;
    create(&prog, src.c_str(), "flexq.cu", 0, nullptr, nullptr);
    std::string opt = std::string("--gpu-architecture=") + arch;
    const char *opts[] = {opt.c_str(), "--std=c++17"};
    int rc = compile(prog, 2, opts);
    size_t n = 0; logSize(prog, &n); std::string log(n, '\0'); getLog(prog, &log[0]);
    printf("NVRTC %s: compile rc=%d in %.1f s%s%s\n", arch, rc, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(),
           n > 1 ? "; log:\n" : "", n > 1 ? log.c_str() : "");
    if (rc != 0) return 1;
    if (strcmp(arch, "sm_90a") != 0) return 0;  // other targets: the build is what sm_80 users need
    cubinSize(prog, &n); std::string cubin(n, '\0'); getCubin(prog, &cubin[0]);
    CK(cudaFree(0));
    auto modLoad = (cuModuleLoadData_t)dlsym(hc, "cuModuleLoadData");
    auto getFn = (cuModuleGetFunction_t)dlsym(hc, "cuModuleGetFunction");
    CUmodule mod;
    CUresult cr = modLoad(&mod, cubin.data());
    if (cr) { printf("NVRTC sm_90a: cuModuleLoadData rc=%d\n", (int)cr); return 1; }
    int bad = 0;
    for (auto &v : wg_variants())
        for (const char *suf : {"", "_p", "_f16", "_bf16"}) {
            CUfunction fn;
            if (getFn(&fn, mod, (std::string(v.name) + suf).c_str())) { printf("  missing %s%s\n", v.name, suf); ++bad; }
        }
    CUfunction fn;
    if (getFn(&fn, mod, "flexq_repack_wg")) { printf("  missing flexq_repack_wg\n"); ++bad; }
    printf("NVRTC sm_90a: module loads, %s\n", bad ? "NAMES MISSING" : "every wgmma entry point found");
    return bad ? 1 : 0;
}

// ------------------------------------------------------------------------------------------- tma
// hopper.cu's `_tma` configs (activations by one TMA box per group): the tensor map over natural-order records is
// encoded here with the driver's cuTensorMapEncodeTiled. Test: P bit for bit against the CPU reference, y bit for
// bit against the config without `_tma` on the same I8 tiles and records. Bench: both, alternating, 8B gate+up.
typedef void (*TmaFn)(const uint4 *, const u16 *, const uint4 *, const float *, int, float *, int *, int, int, int, int, HpTensorMap);
struct TmaVar { const char *name; TmaFn fn, fnP; int rows, toks, threads, smem, launchRegs; };
#define HT_TVAR(n, WGR, WGC, BN, ST, MINB) \
    TmaVar{#n, n, n##_p, HpCfg<WGR, WGC, BN, ST, MINB>::ROWS, HpCfg<WGR, WGC, BN, ST, MINB>::TOKS, HpCfg<WGR, WGC, BN, ST, MINB>::THREADS, \
           HpCfg<WGR, WGC, BN, ST, MINB>::SMEM, HpCfg<WGR, WGC, BN, ST, MINB>::LAUNCH_REGS},
static std::vector<TmaVar> tma_variants() { return {FLEXQ_WT_CONFIGS(HT_TVAR)}; }
typedef CUresult (*encodeTiled_t)(CUtensorMap *, CUtensorMapDataType, cuuint32_t, void *, const cuuint64_t *, const cuuint64_t *,
                                  const cuuint32_t *, const cuuint32_t *, CUtensorMapInterleave, CUtensorMapSwizzle,
                                  CUtensorMapL2promotion, CUtensorMapFloatOOBfill);
static HpTensorMap act_map(const void *records, int M, int G, int toks) {
    static encodeTiled_t enc = nullptr;
    if (!enc) {
        void *h = dlopen("libcuda.so.1", RTLD_NOW | RTLD_GLOBAL);
        enc = h ? (encodeTiled_t)dlsym(h, "cuTensorMapEncodeTiled") : nullptr;
        if (!enc) { printf("CUDA-ERROR cuTensorMapEncodeTiled not found\n"); exit(1); }
    }
    CUtensorMap m;
    cuuint64_t dims[2] = {(cuuint64_t)G * 128, (cuuint64_t)M}, strides[1] = {(cuuint64_t)G * 128};
    cuuint32_t box[2] = {128, (cuuint32_t)toks}, es[2] = {1, 1};
    CUresult r = enc(&m, CU_TENSOR_MAP_DATA_TYPE_UINT8, 2, const_cast<void *>(records), dims, strides, box, es,
                     CU_TENSOR_MAP_INTERLEAVE_NONE, CU_TENSOR_MAP_SWIZZLE_128B, CU_TENSOR_MAP_L2_PROMOTION_L2_256B,
                     CU_TENSOR_MAP_FLOAT_OOB_FILL_NONE);
    if (r != CUDA_SUCCESS) { printf("CUDA-ERROR cuTensorMapEncodeTiled rc=%d (M=%d G=%d toks=%d)\n", (int)r, M, G, toks); exit(1); }
    HpTensorMap out;
    static_assert(sizeof(out) == sizeof(m), "CUtensorMap is 128 bytes");
    memcpy(&out, &m, sizeof m);
    return out;
}
static const WgVar *twin_of(const TmaVar &t) {
    static std::vector<WgVar> all = wg_variants();
    std::string n = t.name; n = n.substr(0, n.size() - 4);
    for (auto &v : all) if (n == v.name) return &v;
    return nullptr;
}
static int run_tma() {
    int fails = 0;
    CK(cudaDeviceGetAttribute(&g_sms, cudaDevAttrMultiProcessorCount, 0));
    for (auto &t : tma_variants()) {
        for (const void *f : {(const void *)t.fn, (const void *)t.fnP}) set_smem(f, t.smem);
        const WgVar *tw = twin_of(t);
        if (!tw || !smem_ok(*tw)) { printf("TMA %s: no twin\n", t.name); ++fails; continue; }
        cudaFuncAttributes at; CK(cudaFuncGetAttributes(&at, (const void *)t.fn));
        if (at.numRegs != t.launchRegs) { printf("TMA %s: REGS MISMATCH %d vs %d\n", t.name, at.numRegs, t.launchRegs); ++fails; continue; }
        struct C { int M, N, K, ab; };
        int pass = 0, fail = 0;
        for (C c : std::vector<C>{{16, 128, 128, 8}, {17, 200, 200, 8}, {100, 3000, 777, 8}, {255, 520, 1100, 6}, {513, 1040, 2048, 8}, {4096, 384, 1100, 8}}) {
            uint64_t seed = 777 + c.M;
            const int G = (c.K + 127) / 128;
            Weights w(c.N, c.K, seed, 1, true);
            Acts a(c.M, c.K, c.ab, seed * 7 + 1);
            std::vector<int8_t> wc, ac; std::vector<float> sw, sa;
            host_weights(seed, c.N, c.K, G, wc, sw);
            a.host(ac, sa);
            HpTensorMap map = act_map(a.a8n.p, c.M, G, t.toks);
            DBuf<float> y1((size_t)c.M * c.N), y2((size_t)c.M * c.N); DBuf<int> P((size_t)c.M * c.N * G);
            CK(cudaMemset(y1.p, 0xFF, y1.bytes())); CK(cudaMemset(y2.p, 0xFF, y2.bytes())); CK(cudaMemset(P.p, 0xFF, P.bytes()));
            dim3 grid(cdiv(w.N, t.rows), cdiv(a.M, t.toks));
            t.fnP<<<grid, t.threads, t.smem>>>((const uint4 *)w.i8[0].p, w.ws[0].p, (const uint4 *)a.a8n.p, a.san.p, a.ldsa, y1.p, P.p, a.M, w.N, w.G, w.G, map);
            CK(cudaGetLastError());
            tw->fn<<<wg_grid(*tw, w.N, a.M, false), tw->threads, tw->smem>>>((const uint4 *)w.i8[0].p, w.ws[0].p, (const uint4 *)a.a8n.p, a.san.p,
                                                                              a.ldsa, y2.p, nullptr, a.M, w.N, w.G, w.G);
            CK(cudaGetLastError());
            CK(cudaDeviceSynchronize());
            auto hp = P.get(); auto h1 = y1.get(); auto h2 = y2.get();
            long badP = 0, badY = 0;
            for (int tt = 0; tt < c.M; ++tt)
                for (int r = 0; r < c.N; ++r) {
                    int32_t pr[256]; float yr; double mag;
                    if (G > 256) break;
                    if ((tt * 131 + r * 7) % 5 != 0 && c.M * c.N > 200000) continue;  // a sample on the large cases
                    ref_one(&wc[(size_t)r * G * 128], &sw[(size_t)r * G], &ac[(size_t)tt * G * 128], &sa[(size_t)tt * G], G, pr, yr, mag);
                    for (int g = 0; g < G; ++g) badP += hp[((size_t)tt * c.N + r) * G + g] != pr[g];
                    badY += memcmp(&h1[(size_t)tt * c.N + r], &h2[(size_t)tt * c.N + r], 4) != 0;
                }
            bool ok = !badP && !badY;
            ok ? ++pass : ++fail;
            printf("  %-24s A%d M=%-5d N=%-5d K=%-5d P %s (%ld bad)  y vs %s %s (%ld differ)\n", t.name, c.ab, c.M, c.N, c.K,
                   badP ? "FAIL" : "exact", badP, tw->name, badY ? "FAIL" : "same", badY);
        }
        printf("TMA %s: %d passed, %d failed\n", t.name, pass, fail);
        fails += fail;
        // bench: 8B gate+up, the twin and the TMA config alternating
        const int N = 28672, K = 4096, G = K / 128;
        Weights w(N, K, 77, 2, true);
        Timer timer(64);
        for (int M : {256, 1024, 4096}) {
            Acts a(M, K, 8, 6);
            HpTensorMap map = act_map(a.a8n.p, M, G, t.toks);
            DBuf<float> y((size_t)M * N);
            dim3 grid(cdiv(N, t.rows), cdiv(M, t.toks));
            const double ops = 2.0 * M * N * K;
            double tt[2][3];
            for (int round = 0; round < 3; ++round) {
                tt[0][round] = timer.median_us(3, 10, [&](int i) {
                    tw->fn<<<wg_grid(*tw, N, M, false), tw->threads, tw->smem>>>((const uint4 *)w.i8[i % 2].p, w.ws[i % 2].p, (const uint4 *)a.a8n.p,
                                                                                  a.san.p, a.ldsa, y.p, nullptr, M, N, G, G); });
                tt[1][round] = timer.median_us(3, 10, [&](int i) {
                    t.fn<<<grid, t.threads, t.smem>>>((const uint4 *)w.i8[i % 2].p, w.ws[i % 2].p, (const uint4 *)a.a8n.p, a.san.p, a.ldsa, y.p,
                                                      nullptr, M, N, G, G, map); });
            }
            CK(cudaGetLastError());
            for (int v = 0; v < 2; ++v) std::sort(tt[v], tt[v] + 3);
            printf("TMABENCH 8B-gateup M=%-5d %-22s %8.1f us %6.0f TOPS | %-24s %8.1f us %6.0f TOPS | x %.3f\n", M, tw->name, tt[0][1],
                   ops / tt[0][1] / 1e6, t.name, tt[1][1], ops / tt[1][1] / 1e6, tt[0][1] / tt[1][1]);
        }
    }
    return fails != 0;
}

int main(int argc, char **argv) {
    if (argc < 2) { fprintf(stderr, "usage: hopper_test list | test <cfg> | bench <csv> <shape> [cfg..] | nvrtc <file> <arch>\n"); return 2; }
    std::string mode = argv[1];
    if (mode == "probe") { int a = run_probe(); return run_probe_su() | a; }
    if (mode == "tma") return run_tma();
    if (mode == "list") { for (auto &v : wg_variants()) printf("%s\n", v.name); return 0; }
    if (mode == "test" && argc >= 3) {
        std::vector<std::string> cfgs;
        for (int i = 2; i < argc; ++i) cfgs.push_back(argv[i]);
        return run_test(cfgs);
    }
    if (mode == "bench" && argc >= 4) {
        std::vector<std::string> cfgs;
        for (int i = 4; i < argc; ++i) cfgs.push_back(argv[i]);
        return run_bench(argv[2], argv[3], cfgs);
    }
    if (mode == "nvrtc" && argc >= 4) return run_nvrtc(argv[2], argv[3]);
    if (mode == "one" && argc >= 6) {  // one <cfg> M N K: 3 launches of one config, for ncu
        int M = atoi(argv[3]), N = atoi(argv[4]), K = atoi(argv[5]);
        for (auto &v : wg_variants())
            if (!strcmp(v.name, argv[2])) {
                set_smem((const void *)v.fn, v.smem);
                Weights w(N, K, 5, 1, false);
                Acts a(M, K, 8, 6);
                DBuf<float> y((size_t)M * N);
                for (int i = 0; i < 3; ++i) launch_wg(v, w, 0, a, y.p, nullptr);
                CK(cudaDeviceSynchronize());
                return 0;
            }
        for (auto &v : old_variants())
            if (!strcmp(v.name, argv[2]) && v.gemm) {
                set_smem((const void *)v.fn, v.smem);
                Weights w(N, K, 5, 1, true);
                Acts a(M, K, 8, 6);
                DBuf<float> y((size_t)M * N);
                for (int i = 0; i < 3; ++i) launch_old(v, w, 0, a, y.p, w.G);
                CK(cudaDeviceSynchronize());
                return 0;
            }
        return 2;
    }
    return 2;
}
