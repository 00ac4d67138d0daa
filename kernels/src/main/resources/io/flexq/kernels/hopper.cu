// FlexQ-J Hopper GEMM: W6A8 / W6A6 prefill and batch products on sm_90a with wgmma (m64nNk32 s8.s8 -> s32).
//
// Compiled in one program after flexq.cu and decoder.cu (it uses u32/u16/u64, h2f, exact_i2f, store_out and
// fq6_code from flexq.cu); no #include, so NVRTC builds it with no header path. The wgmma bodies exist only when
// the target is sm_90a (__CUDA_ARCH_FEAT_SM90_ALL): elsewhere every entry point below is still defined (so the
// module exports the same names on every architecture) but traps if launched.
//
// Why a new weight layout. wgmma reads B (the activations) from shared memory in the hardware's K-major form.
// An activation record (flexq.cu: 128 bytes per (token, group), byte p = tig*32 + ks*8 + h*4 + b holds
// k = ks*32 + h*16 + tig*4 + b) stored with 16-byte chunk c of token row tt at chunk c ^ (tt & 7) is exactly the
// 128-byte-swizzle K-major layout, one record per 128-byte row; so a wgmma k-step j reads record bytes
// 32j .. 32j+31, and its k index q (0..31) is group position kperm(32j + q) with
//   kperm(p) = (p >> 3 & 3) * 32 + (p >> 2 & 1) * 16 + (p >> 5) * 4 + (p & 3).
// The weights come from registers (wgmma's A operand may: the register fragment of warp w of the warpgroup is the
// mma.sync m16n8k32 A fragment of rows 16w .. 16w+15), so each thread must hold, for k-step j, the codes at
// positions kperm(32j + ...) that its fragment slots name. The flexq.cu I8 tile holds other positions per lane
// (k = ... + tig*4 + b), hence the WG layout below: same size and word addressing, other k order.
//
// WG weight tile (rt, g): 1536 bytes at byte ((rt * G) + g) * 1536; word w of lane L = 4 * gid + tig at byte
// (w >> 2) * 512 + L * 16 + (w & 3) * 4 (one warp reads a tile with three coalesced 16-byte loads per lane).
// w = 3 * j + m (wgmma k-step j in 0..3, m in 0..2). Define int8x4 words T0..T3 of k-step j: byte b of Tn is
// (uint8)(wcode[r][k] << 2) with r = rt*16 + gid + 8*(n & 1), k = g*128 + kperm(32j + 16*(n >> 1) + tig*4 + b);
// then S_m = T_m | ((T3 >> (2m + 2)) & 0x03030303) as in the I8 layout, and the unpacking is the same:
// T_m = S_m & 0xFCFCFCFC, T3 = ((S0 & 0x03030303) << 2) | ((S1 & ..) << 4) | ((S2 & ..) << 6); (T0, T1, T2, T3)
// is the A fragment (a0, a1, a2, a3) of k-step j. Scales: the flexq.cu scale tiles, unchanged.
// Memory: the WG layout replaces the I8 tiles on sm_90 (same 0.75 bytes per weight + 1/64 byte of scale); kept
// beside them it costs another 0.75 bytes per weight.
//
// The same kernels on the I8 tiles (what the decoder holds; no second copy). The WG layout pairs weight word
// position (j, n, tig, b) with record byte q = 32j + 16*(n >> 1) + 4*tig + b, whatever k the two hold; it puts
// wcode[kperm(q)] there because the INT8-MMA record holds acode[kperm(q)] at byte q. The I8 tile holds wcode[32j + q']
// at that word position (q' = q - 32j: the mma.sync A fragment of k-step j in natural k order), so with a
// natural-order record (flexq.cu, byte q = acode[q]) every wgmma product pairs the same k in weights and
// activations: the same exact group partials P, the same epilogue, the same y bit for bit (hopper_test.cu checks
// it for every config). The decoder's prompt path does this (Dispatcher.wgmma, LayerInput).
//
// Products: the int8 MMA of codes << 2 yields D = 4 * P exactly (|4P| <= 2^21), one group (4 k-steps) at a time,
// the group's first wgmma overwriting the accumulator (scale-d 0), so the int32 group partial is exact before any
// float step; `_p` twins store P = D >> 2.
// Epilogue per group and element, two forms:
//   exact (`_x` kernels): y += (float)(4P) * (sw * sa), each product and sum rounded in fp32 as the contract's
//     reference (y = acc / 4 at the end is the reference's y bit for bit, as in flexq.cu's I8 kernels);
//   fma (default): u = fma(D + 1.5*2^23 as float, sw, -1.5*2^23*sw) = fl(4P * sw) (one rounding: the exponent
//     trick gives 1.5*2^23 + 4P exactly and -1.5*2^23*sw is exact), then y = fma(u, sa, y): three instructions
//     instead of five. Bound against the contract's reference, with u = 2^-24 and t_g = P_g sw_g sa_g: the
//     reference rounds each term twice and each of G-1 sums once, the FMA form rounds fl(4P sw) once and each of
//     G FFMAs once, so each is within (G+1) u sum|t| of the exact sum (partial sums are at most sum|t|) and
//     |y_fma - y_ref| <= (G + 1) * 2^-23 * sum_g |t_g| (to first order in u; tests allow 1.001 times that),
//     which is inside the contract's split-K bound G * 2^-22 * sum_g |t_g| for every G >= 1.
//
// Kernel shape. Block = one producer warpgroup (cp.async 16-byte copies into STAGES shared-memory stages, one
// 128-wide group each, full/empty mbarriers) + WGR x WGC consumer warpgroups; consumer (cr, cc) computes rows
// 64*cr .. +63 x tokens BN*cc .. +BN-1 of the block tile (64*WGR rows x BN*WGC tokens). Per group a consumer
// loads its warp's 16-row weight tile from shared memory to registers, unpacks it, issues four wgmma
// m64nBNk32 (A registers, B descriptor), waits, and applies the epilogue; `_db` kernels keep two accumulator
// sets and run group g+1's wgmmas during group g's epilogue. cp.async writes are generic-proxy writes and wgmma
// reads through the async proxy: the producer waits for its copies (cp.async.wait_group), issues
// fence.proxy.async, then arrives on the stage's full barrier (LAG groups behind its issue point).
// Stage layout (bytes, stage base 1024-aligned): [0, TOKS*128) activation records (swizzled as above),
// then ROWS*96 weight tiles, ROWS*2 weight scales, TOKS*4 activation scales; stage size rounded up to 1024.
// Dynamic shared memory: STAGES * stage + 1024 (alignment slack). Grid: (ceil(N / ROWS), ceil(M / TOKS)) gives
// one tile per block; any smaller grid (e.g. MINB blocks per SM) makes the blocks persistent (see hp_tile).
// Arguments: flexq.cu's GEMM argument list (gps unused); wt points to WG tiles.

#if defined(__CUDA_ARCH__) && defined(__CUDA_ARCH_FEAT_SM90_ALL)
#define FLEXQ_HOPPER 1
#else
#define FLEXQ_HOPPER 0
#endif
// Diagnostics only (never in the Java program or the tests): tools/gpu/hopper-diag.sh builds the harness with
// FLEXQ_HOPPER_DIAG = 1 (the register-A consumers skip the epilogue's arithmetic; outputs wrong by design), so the
// epilogue's time is the difference to the real kernel; any other nonzero value builds the real kernels of the
// diagnostics' config list (for flag variants such as FLEXQ_HOPPER_NO_WATCHDOG). Session 12 also tried a "no wait on
// memory" build (the consumers reusing stale stages): it timed above the H100's int8 peak, so it measured nothing and
// was removed (hopper-gemm-h100.md, round 3).
#ifndef FLEXQ_HOPPER_DIAG
#define FLEXQ_HOPPER_DIAG 0
#endif

// ------------------------------------------------------------------------------- WG repacker
// One warp per weight tile (rt, g), from the FQ6 bytes (flexq.cu's fq6_code); ws (optional) gets the scale
// tiles exactly as flexq_repack writes them.
__device__ __forceinline__ int hp_kperm(int p) { return ((p >> 3) & 3) * 32 + ((p >> 2) & 1) * 16 + (p >> 5) * 4 + (p & 3); }

extern "C" __global__ void __launch_bounds__(256) flexq_repack_wg(const u8 *__restrict__ fq6, int R, int K, int G,
                                                                 u32 *__restrict__ wwg, u16 *__restrict__ ws) {
    pdl_launch();
    pdl_wait();
    const long long warp = ((long long)blockIdx.x * blockDim.x + threadIdx.x) >> 5;
    const int lane = threadIdx.x & 31, gid = lane >> 2, tig = lane & 3;
    const int Rt = (R + 15) / 16;
    if (warp >= (long long)Rt * G) return;
    const int rt = (int)(warp / G), g = (int)(warp % G);
    const long long tileWords = warp * 384;
#pragma unroll
    for (int j = 0; j < 4; ++j) {
        u32 t[4];
#pragma unroll
        for (int n = 0; n < 4; ++n) {
            t[n] = 0;
#pragma unroll
            for (int b = 0; b < 4; ++b) {
                const int c = fq6_code(fq6, R, K, G, rt * 16 + gid + 8 * (n & 1), g, hp_kperm(32 * j + 16 * (n >> 1) + tig * 4 + b));
                t[n] |= (u32)((c * 4) & 0xFF) << (8 * b);
            }
        }
#pragma unroll
        for (int m = 0; m < 3; ++m) {
            const int w = 3 * j + m;
            wwg[tileWords + (w >> 2) * 128 + lane * 4 + (w & 3)] = t[m] | ((t[3] >> (2 * m + 2)) & 0x03030303u);
        }
    }
    if (ws != nullptr && lane < 16) {
        const int r = rt * 16 + lane;
        u16 s = 0;
        if (r < R) {
            const u8 *p = fq6 + (long long)R * G * 96 + ((long long)r * G + g) * 2;
            s = (u16)(p[0] | (p[1] << 8));
        }
        ws[warp * 16 + lane] = s;
    }
}

// ---------------------------------------------------------------------------- PTX wrappers
__device__ __forceinline__ void hp_bar_init(u32 bar, u32 count) {
    asm volatile("mbarrier.init.shared::cta.b64 [%0], %1;\n" ::"r"(bar), "r"(count) : "memory");
}
__device__ __forceinline__ void hp_bar_arrive(u32 bar) {
    asm volatile("{\n.reg .b64 st;\nmbarrier.arrive.shared::cta.b64 st, [%0];\n}\n" ::"r"(bar) : "memory");
}
// Watchdog: a wait still unfinished after 10 s of %globaltimer (read every 1024 spins; legitimate waits are
// microseconds, and try_wait's own suspension time is unspecified, so the limit is in time, not spins) traps, so a
// pipeline deadlock surfaces as a launch error at the next synchronizing call instead of hanging the process.
// FLEXQ_HOPPER_NO_WATCHDOG removes it.
__device__ __forceinline__ void hp_bar_wait(u32 bar, u32 parity) {
    u32 done;
#ifndef FLEXQ_HOPPER_NO_WATCHDOG
    u32 spins = 0;
    u64 start = 0;
#endif
    do {
        asm volatile("{\n.reg .pred p;\nmbarrier.try_wait.parity.shared::cta.b64 p, [%1], %2;\nselp.u32 %0, 1, 0, p;\n}\n"
                     : "=r"(done) : "r"(bar), "r"(parity) : "memory");
#ifndef FLEXQ_HOPPER_NO_WATCHDOG
        if (!done && (++spins & 1023u) == 0) {
            u64 now;
            asm volatile("mov.u64 %0, %%globaltimer;" : "=l"(now));
            if (start == 0) start = now;
            else if (now - start > 10000000000ull) __trap();
        }
#endif
    } while (!done);
}

__device__ __forceinline__ void hp_fence_async_smem() { asm volatile("fence.proxy.async.shared::cta;\n" ::: "memory"); }
__device__ __forceinline__ void hp_cp16(u32 smem, const void *gmem, bool valid) {
    asm volatile("cp.async.cg.shared.global [%0], [%1], 16, %2;\n" ::"r"(smem), "l"(gmem), "r"(valid ? 16 : 0) : "memory");
}
// One contiguous global -> shared copy through the async proxy (TMA unit), completing as transaction bytes on
// an mbarrier; the barrier's phase needs the matching expect_tx.
__device__ __forceinline__ void hp_bulk_g2s(u32 smem, const void *gmem, u32 bytes, u32 bar) {
    asm volatile("cp.async.bulk.shared::cluster.global.mbarrier::complete_tx::bytes [%0], [%1], %2, [%3];\n"
                 ::"r"(smem), "l"(gmem), "r"(bytes), "r"(bar) : "memory");
}
// A TMA tensor map (the driver's CUtensorMap: 128 bytes, 64-byte aligned), passed by value as a __grid_constant__
// kernel parameter; the `_tma` kernels read the activation records through one.
struct __align__(64) HpTensorMap { unsigned long long w[16]; };
// One 2D box of the map (inner coordinate c0, outer c1) into shared memory, swizzled as the map says, completing as
// transaction bytes (the whole box: rows past the tensor's end arrive as zeros) on an mbarrier.
__device__ __forceinline__ void hp_tma_2d(u32 smem, const HpTensorMap *map, int c0, int c1, u32 bar) {
    asm volatile("cp.async.bulk.tensor.2d.shared::cluster.global.tile.mbarrier::complete_tx::bytes [%0], [%1, {%2, %3}], [%4];\n"
                 ::"r"(smem), "l"(reinterpret_cast<u64>(map)), "r"(c0), "r"(c1), "r"(bar) : "memory");
}
__device__ __forceinline__ void hp_bar_expect_tx(u32 bar, u32 bytes) {
    asm volatile("mbarrier.expect_tx.relaxed.cta.shared::cta.b64 [%0], %1;\n" ::"r"(bar), "r"(bytes) : "memory");
}
__device__ __forceinline__ void hp_cp_commit() { asm volatile("cp.async.commit_group;\n" ::: "memory"); }
template <int N>
__device__ __forceinline__ void hp_cp_wait() { asm volatile("cp.async.wait_group %0;\n" ::"n"(N) : "memory"); }
__device__ __forceinline__ void hp_wgmma_fence() { asm volatile("wgmma.fence.sync.aligned;\n" ::: "memory"); }
__device__ __forceinline__ void hp_wgmma_commit() { asm volatile("wgmma.commit_group.sync.aligned;\n" ::: "memory"); }
template <int N>
__device__ __forceinline__ void hp_wgmma_wait() { asm volatile("wgmma.wait_group.sync.aligned %0;\n" ::"n"(N) : "memory"); }
template <int R>
__device__ __forceinline__ void hp_setmaxnreg_inc() { asm volatile("setmaxnreg.inc.sync.aligned.u32 %0;\n" ::"n"(R)); }
template <int R>
__device__ __forceinline__ void hp_setmaxnreg_dec() { asm volatile("setmaxnreg.dec.sync.aligned.u32 %0;\n" ::"n"(R)); }

// Shared-memory matrix descriptor: K-major, 128-byte swizzle, 8-row groups 1024 bytes apart (SBO), LBO unused
// (one k-step stays inside a 128-byte row); start address in 16-byte units. Base 1024-aligned, so base offset 0.
__device__ __forceinline__ u64 hp_desc_sw128(u32 smem) {
    return (u64)((smem & 0x3FFFF) >> 4) | ((u64)1 << 16) | ((u64)(1024 >> 4) << 32) | ((u64)1 << 62);
}

// wgmma m64nNk32 s32 += s8 (A: four registers) x s8 (B: descriptor); scaleD = 0 overwrites d.
__device__ __forceinline__ void hp_wgmma_n16(int (&d)[8], u32 a0, u32 a1, u32 a2, u32 a3, u64 desc, int scaleD) {
    asm volatile("{\n.reg .pred p;\nsetp.ne.b32 p, %13, 0;\n"
        "wgmma.mma_async.sync.aligned.m64n16k32.s32.s8.s8 {%0, %1, %2, %3, %4, %5, %6, %7}, {%8, %9, %10, %11}, %12, p;\n}\n"
        : "+r"(d[0]), "+r"(d[1]), "+r"(d[2]), "+r"(d[3]), "+r"(d[4]), "+r"(d[5]), "+r"(d[6]), "+r"(d[7])
        : "r"(a0), "r"(a1), "r"(a2), "r"(a3), "l"(desc), "r"(scaleD)
        : "memory");
}
__device__ __forceinline__ void hp_wgmma_n32(int (&d)[16], u32 a0, u32 a1, u32 a2, u32 a3, u64 desc, int scaleD) {
    asm volatile("{\n.reg .pred p;\nsetp.ne.b32 p, %21, 0;\n"
        "wgmma.mma_async.sync.aligned.m64n32k32.s32.s8.s8 {%0, %1, %2, %3, %4, %5, %6, %7, %8, %9, %10, %11, %12, %13, %14, %15}, {%16, %17, %18, %19}, %20, p;\n}\n"
        : "+r"(d[0]), "+r"(d[1]), "+r"(d[2]), "+r"(d[3]), "+r"(d[4]), "+r"(d[5]), "+r"(d[6]), "+r"(d[7]), "+r"(d[8]), "+r"(d[9]), "+r"(d[10]), "+r"(d[11]), "+r"(d[12]), "+r"(d[13]), "+r"(d[14]), "+r"(d[15])
        : "r"(a0), "r"(a1), "r"(a2), "r"(a3), "l"(desc), "r"(scaleD)
        : "memory");
}
__device__ __forceinline__ void hp_wgmma_n64(int (&d)[32], u32 a0, u32 a1, u32 a2, u32 a3, u64 desc, int scaleD) {
    asm volatile("{\n.reg .pred p;\nsetp.ne.b32 p, %37, 0;\n"
        "wgmma.mma_async.sync.aligned.m64n64k32.s32.s8.s8 {%0, %1, %2, %3, %4, %5, %6, %7, %8, %9, %10, %11, %12, %13, %14, %15, %16, %17, %18, %19, %20, %21, %22, %23, %24, %25, %26, %27, %28, %29, %30, %31}, {%32, %33, %34, %35}, %36, p;\n}\n"
        : "+r"(d[0]), "+r"(d[1]), "+r"(d[2]), "+r"(d[3]), "+r"(d[4]), "+r"(d[5]), "+r"(d[6]), "+r"(d[7]), "+r"(d[8]), "+r"(d[9]), "+r"(d[10]), "+r"(d[11]), "+r"(d[12]), "+r"(d[13]), "+r"(d[14]), "+r"(d[15]), "+r"(d[16]), "+r"(d[17]), "+r"(d[18]), "+r"(d[19]), "+r"(d[20]), "+r"(d[21]), "+r"(d[22]), "+r"(d[23]), "+r"(d[24]), "+r"(d[25]), "+r"(d[26]), "+r"(d[27]), "+r"(d[28]), "+r"(d[29]), "+r"(d[30]), "+r"(d[31])
        : "r"(a0), "r"(a1), "r"(a2), "r"(a3), "l"(desc), "r"(scaleD)
        : "memory");
}
__device__ __forceinline__ void hp_wgmma_n128(int (&d)[64], u32 a0, u32 a1, u32 a2, u32 a3, u64 desc, int scaleD) {
    asm volatile("{\n.reg .pred p;\nsetp.ne.b32 p, %69, 0;\n"
        "wgmma.mma_async.sync.aligned.m64n128k32.s32.s8.s8 {%0, %1, %2, %3, %4, %5, %6, %7, %8, %9, %10, %11, %12, %13, %14, %15, %16, %17, %18, %19, %20, %21, %22, %23, %24, %25, %26, %27, %28, %29, %30, %31, %32, %33, %34, %35, %36, %37, %38, %39, %40, %41, %42, %43, %44, %45, %46, %47, %48, %49, %50, %51, %52, %53, %54, %55, %56, %57, %58, %59, %60, %61, %62, %63}, {%64, %65, %66, %67}, %68, p;\n}\n"
        : "+r"(d[0]), "+r"(d[1]), "+r"(d[2]), "+r"(d[3]), "+r"(d[4]), "+r"(d[5]), "+r"(d[6]), "+r"(d[7]), "+r"(d[8]), "+r"(d[9]), "+r"(d[10]), "+r"(d[11]), "+r"(d[12]), "+r"(d[13]), "+r"(d[14]), "+r"(d[15]), "+r"(d[16]), "+r"(d[17]), "+r"(d[18]), "+r"(d[19]), "+r"(d[20]), "+r"(d[21]), "+r"(d[22]), "+r"(d[23]), "+r"(d[24]), "+r"(d[25]), "+r"(d[26]), "+r"(d[27]), "+r"(d[28]), "+r"(d[29]), "+r"(d[30]), "+r"(d[31]), "+r"(d[32]), "+r"(d[33]), "+r"(d[34]), "+r"(d[35]), "+r"(d[36]), "+r"(d[37]), "+r"(d[38]), "+r"(d[39]), "+r"(d[40]), "+r"(d[41]), "+r"(d[42]), "+r"(d[43]), "+r"(d[44]), "+r"(d[45]), "+r"(d[46]), "+r"(d[47]), "+r"(d[48]), "+r"(d[49]), "+r"(d[50]), "+r"(d[51]), "+r"(d[52]), "+r"(d[53]), "+r"(d[54]), "+r"(d[55]), "+r"(d[56]), "+r"(d[57]), "+r"(d[58]), "+r"(d[59]), "+r"(d[60]), "+r"(d[61]), "+r"(d[62]), "+r"(d[63])
        : "r"(a0), "r"(a1), "r"(a2), "r"(a3), "l"(desc), "r"(scaleD)
        : "memory");
}

// Compiler-only fence on accumulator registers (emits nothing): pins them in place so the compiler neither moves
// their uses across the wgmma pipeline nor copies them between loop iterations while a wgmma writes them.
template <int N>
__device__ __forceinline__ void hp_fence_regs(int (&d)[N]) {
#pragma unroll
    for (int i = 0; i < N; ++i) asm volatile("" : "+r"(d[i])::"memory");
}

template <int BN> struct HpMma;
template <> struct HpMma<16> { static __device__ __forceinline__ void run(int (&d)[8], const u32 *a, u64 desc, int sc) { hp_wgmma_n16(d, a[0], a[1], a[2], a[3], desc, sc); } };
template <> struct HpMma<32> { static __device__ __forceinline__ void run(int (&d)[16], const u32 *a, u64 desc, int sc) { hp_wgmma_n32(d, a[0], a[1], a[2], a[3], desc, sc); } };
template <> struct HpMma<64> { static __device__ __forceinline__ void run(int (&d)[32], const u32 *a, u64 desc, int sc) { hp_wgmma_n64(d, a[0], a[1], a[2], a[3], desc, sc); } };
template <> struct HpMma<128> { static __device__ __forceinline__ void run(int (&d)[64], const u32 *a, u64 desc, int sc) { hp_wgmma_n128(d, a[0], a[1], a[2], a[3], desc, sc); } };

// Block order. The grid is (row blocks, token blocks) as for flexq.cu's GEMMs, but blocks take tiles in bands of
// HP_BAND row blocks, token blocks fastest inside a band: the ~132 resident blocks then share a few weight row
// blocks (each read from DRAM about once, later token blocks hit L2) and stream the activations through L2,
// instead of all reading different weights for one token block (which re-reads the whole weight per token block).
#define HP_BAND 16
__device__ __forceinline__ void hp_tile(int b, int RB, int TB, int &rb, int &tb) {
    const int band = b / (HP_BAND * TB), first = band * HP_BAND;
    const int rows = min(HP_BAND, RB - first), i = b - band * HP_BAND * TB;
    rb = first + i % rows;
    tb = i / rows;
}

// ------------------------------------------------------------------------------------ GEMM body
template <int WGR, int WGC, int BN, int ST, int MINB> struct HpCfg {
    static constexpr int ROWS = 64 * WGR, TOKS = BN * WGC, TILES = ROWS / 16, NCONS = WGR * WGC;
    static constexpr int THREADS = (NCONS + 1) * 128;
    static constexpr int OFF_A = 0, OFF_W = TOKS * 128, OFF_SW = OFF_W + ROWS * 96, OFF_SA = OFF_SW + ROWS * 2;
    static constexpr int STAGE = (OFF_SA + TOKS * 4 + 1023) / 1024 * 1024;
    static constexpr int SMEM = ST * STAGE + 1024;
    static constexpr int LAG = ST > 3 ? ST - 2 : 1;  // producer arrives for group g after issuing g + LAG
    // Registers per thread: the launch gives LAUNCH_REGS = 65536 / (THREADS * MINB) rounded down to 8 (ptxas pins
    // the kernel to that bound when it sees setmaxnreg; hopper_test checks it). The block's pool is
    // LAUNCH_REGS * THREADS; the producer gives most of its share back (setmaxnreg.dec) and the consumers, which
    // hold BN/2 int32 accumulators and BN/2 fp32 sums each, take it (setmaxnreg.inc, which waits until the pool
    // has the registers: asking for more than the pool would hang).
    static constexpr int LAUNCH_REGS = (65536 / (THREADS * MINB)) / 8 * 8 > 255 ? 255 : (65536 / (THREADS * MINB)) / 8 * 8;
    static constexpr int PROD_REGS = 56;
    static constexpr int CONS_REGS_RAW = (LAUNCH_REGS * THREADS - 128 * PROD_REGS) / (128 * NCONS) / 8 * 8;
    static constexpr int CONS_REGS = CONS_REGS_RAW > 240 ? 240 : CONS_REGS_RAW;
    static_assert(CONS_REGS <= LAUNCH_REGS || 128 * PROD_REGS + 128 * NCONS * CONS_REGS <= LAUNCH_REGS * THREADS,
                  "setmaxnreg asks for more registers than the block holds");
};

// TMA: the activation records come as one TMA box per group (tmA: natural-order records viewed as M rows of G * 128
// bytes, box 128 bytes x TOKS rows, 128-byte swizzle: the hardware places chunk c of row r at c ^ (r & 7), the layout
// the cp.async path writes by hand), so the producer issues one copy for them instead of TOKS * 8 16-byte copies.
template <int WGR, int WGC, int BN, int ST, int MINB, bool EXACT, bool DB, bool BULK, bool WITHP, typename OutT, bool TMA = false>
__device__ __forceinline__ void hp_gemm_body(const uint4 *__restrict__ wt, const u16 *__restrict__ ws,
                                             const uint4 *__restrict__ act, const float *__restrict__ sa, int ldsa,
                                             OutT *__restrict__ y, int *__restrict__ P, int M, int N, int G,
                                             const HpTensorMap *tmA = nullptr) {
    // the decoder launches these with programmatic dependent launch, as every kernel of the program: without the wait
    // the producer warps would read the activation records while the norm or quantizer before is still writing them
    pdl_launch();
    pdl_wait();
#if FLEXQ_HOPPER
    typedef HpCfg<WGR, WGC, BN, ST, MINB> C;
    __shared__ __align__(8) u64 bars[2 * ST];  // full[0..ST), empty[0..ST)
    extern __shared__ uint4 hp_dsm[];
    const u32 sraw = (u32)__cvta_generic_to_shared(hp_dsm);
    const u32 sbase = (sraw + 1023u) & ~1023u;
    const u32 full0 = (u32)__cvta_generic_to_shared(bars), empty0 = full0 + 8 * ST;
    const int tid = threadIdx.x, wg = tid >> 7;
    const int Rt = (N + 15) >> 4;
    // Tiles: RB x TB block tiles, linear index in band order (hp_tile); block b takes tiles b, b + blocks, ...
    // The full grid (ceil(N / ROWS), ceil(M / TOKS)) gives each block one tile; a smaller grid (one or two blocks
    // per SM) makes the blocks persistent, with the pipeline running on across tile boundaries.
    const int RB = (N + C::ROWS - 1) / C::ROWS, TB = (M + C::TOKS - 1) / C::TOKS, tiles = RB * TB;
    const int blocks = gridDim.x * gridDim.y, first = blockIdx.y * gridDim.x + blockIdx.x;
    if (tid == 0) {
        for (int s = 0; s < ST; ++s) {
            hp_bar_init(full0 + 8 * s, 128);
            hp_bar_init(empty0 + 8 * s, 128 * C::NCONS);
        }
        asm volatile("fence.mbarrier_init.release.cluster;\n" ::: "memory");
    }
    __syncthreads();

    if (wg == C::NCONS) {
        // ------------------------------------------------------------------------------ producer
        if (C::CONS_REGS > C::LAUNCH_REGS) hp_setmaxnreg_dec<C::PROD_REGS>();
        const int ptid = tid - 128 * C::NCONS;
        constexpr int CH_A = C::TOKS * 8, CH_W = C::TILES * 96, CH_SW = C::TILES * 2, CH_SA = C::TOKS / 4;
        // BULK: the weight tiles (1536 contiguous bytes each) come by cp.async.bulk, one per tile, completing as
        // transaction bytes on the stage's full barrier (thread 0 announces them with expect_tx before its own
        // arrival, so the phase cannot complete first); tiles past N are not copied (their rows are never stored).
        constexpr int UA = TMA ? 0 : (CH_A + 127) / 128, UW = BULK ? 0 : (CH_W + 127) / 128;
        static_assert(UA + UW <= 32, "copy plan validity bits");
        // Copy plan, fixed for a tile's K loop: chunk u of a region is chunk ptid + 128 u; sources are kept as 32-bit
        // offsets (in 16-byte units) of group 0, plus one validity bit each (zero fill past N or M), so the producer
        // fits in few registers after setmaxnreg.dec.
        int it = 0;  // groups issued by this block, over all its tiles: stage it % ST, phase it / ST
        for (int tile = first; tile < tiles; tile += blocks) {
            int rb, tbk;
            hp_tile(tile, RB, TB, rb, tbk);
            const int rt0 = rb * C::TILES, t0 = tbk * C::TOKS;
            u32 aoff[UA > 0 ? UA : 1], woff[UW > 0 ? UW : 1], valid = 0;
#pragma unroll
            for (int u = 0; u < UA; ++u) {
                const int q = ptid + u * 128, tt = q >> 3, c = q & 7;
                const bool ok = q < CH_A && t0 + tt < M;
                valid |= (u32)ok << u;
                aoff[u] = (u32)((ok ? t0 + tt : 0) * G) * 8u + (u32)c;
            }
#pragma unroll
            for (int u = 0; u < UW; ++u) {
                const int i = ptid + u * 128, t16 = i / 96, j = i % 96;
                const bool ok = i < CH_W && rt0 + t16 < Rt;
                valid |= (u32)ok << (UA + u);
                woff[u] = (u32)((ok ? rt0 + t16 : 0) * G) * 96u + (u32)j;
            }
            const bool sok = ptid < CH_SW && rt0 + (ptid >> 1) < Rt;
            const uint4 *ssrc = reinterpret_cast<const uint4 *>(ws) + ((long long)(sok ? rt0 + (ptid >> 1) : 0) * G) * 2 + (ptid & 1);
            const bool aaok = ptid < CH_SA && t0 + 4 * ptid < ldsa;
            const float *sasrc = sa + (aaok ? t0 + 4 * ptid : 0);
            for (int g = 0; g < G; ++g, ++it) {
                const int s = it % ST;
                if (it >= ST) hp_bar_wait(empty0 + 8 * s, ((it / ST) - 1) & 1);
                const u32 sb = sbase + s * C::STAGE;
#pragma unroll
                for (int u = 0; u < UA; ++u)
                    if ((u + 1) * 128 <= CH_A || ptid + u * 128 < CH_A) {
                        const int q = ptid + u * 128, tt = q >> 3, c = q & 7;
                        hp_cp16(sb + C::OFF_A + tt * 128 + ((c ^ (tt & 7)) << 4), act + aoff[u] + (u32)g * 8u, (valid >> u) & 1);
                    }
#pragma unroll
                for (int u = 0; u < UW; ++u)
                    if ((u + 1) * 128 <= CH_W || ptid + u * 128 < CH_W)
                        hp_cp16(sb + C::OFF_W + (ptid + u * 128) * 16, wt + woff[u] + (u32)g * 96u, (valid >> (UA + u)) & 1);
                if (BULK || TMA) {
                    if (ptid == 0)
                        hp_bar_expect_tx(full0 + 8 * s, (BULK ? 1536u * (u32)min(C::TILES, Rt - rt0) : 0u) + (TMA ? 128u * C::TOKS : 0u));
                    if (BULK && ptid < C::TILES && rt0 + ptid < Rt)
                        hp_bulk_g2s(sb + C::OFF_W + ptid * 1536, wt + ((long long)(rt0 + ptid) * G + g) * 96, 1536u, full0 + 8 * s);
                    if (TMA && ptid == 0) hp_tma_2d(sb + C::OFF_A, tmA, g * 128, t0, full0 + 8 * s);
                }
                if (ptid < CH_SW) hp_cp16(sb + C::OFF_SW + ptid * 16, ssrc + (long long)g * 2, sok);
                if (ptid < CH_SA) hp_cp16(sb + C::OFF_SA + ptid * 16, sasrc + (long long)g * ldsa, aaok);
                hp_cp_commit();
                if (it >= C::LAG) {
                    hp_cp_wait<C::LAG>();
                    hp_fence_async_smem();
                    hp_bar_arrive(full0 + 8 * ((it - C::LAG) % ST));
                }
            }
        }
        hp_cp_wait<0>();
        hp_fence_async_smem();
        for (int j = it - C::LAG < 0 ? 0 : it - C::LAG; j < it; ++j) hp_bar_arrive(full0 + 8 * (j % ST));
        return;
    }

    // ---------------------------------------------------------------------------------- consumers
    if (C::CONS_REGS > C::LAUNCH_REGS) hp_setmaxnreg_inc<C::CONS_REGS>();
    const int lane = tid & 31, warp = (tid >> 5) & 3, gid = lane >> 2, tig = lane & 3;
    const int cr = wg % WGR, cc = wg / WGR;
    const int tl = cr * 4 + warp;          // this warp's 16-row tile within the block
    const int tb = cc * BN;                // this warpgroup's first token within the block
    int t0 = 0, r0 = 0;                    // the current tile's first token; rows r0 (h = 0) and r0 + 8 (h = 1)
    float acc[BN / 2];
    // issue(it, d): wait for the stage of the block's group number it, load and unpack this warp's weight tile,
    // start the group's four wgmmas into d (the first one overwrites d), commit. finish(it, g, d): after the
    // caller's wgmma wait, the epilogue of group g (the tile's group in that stage) from d, then release the stage.
    auto issue = [&](int it, int (&d)[BN / 2]) {
        const int s = it % ST;
        hp_bar_wait(full0 + 8 * s, (it / ST) & 1);
        const u32 sb = sbase + s * C::STAGE;
        const uint4 *tile = reinterpret_cast<const uint4 *>(reinterpret_cast<const unsigned char *>(hp_dsm) + (sb - sraw) + C::OFF_W + tl * 1536);
        const uint4 q0 = tile[lane], q1 = tile[32 + lane], q2 = tile[64 + lane];
        const u32 w[12] = {q0.x, q0.y, q0.z, q0.w, q1.x, q1.y, q1.z, q1.w, q2.x, q2.y, q2.z, q2.w};
        u32 a[16];
#pragma unroll
        for (int j = 0; j < 4; ++j) {
            const u32 s0 = w[3 * j], s1 = w[3 * j + 1], s2 = w[3 * j + 2];
            a[4 * j] = s0 & 0xFCFCFCFCu;
            a[4 * j + 1] = s1 & 0xFCFCFCFCu;
            a[4 * j + 2] = s2 & 0xFCFCFCFCu;
            a[4 * j + 3] = ((s0 & 0x03030303u) << 2) | ((s1 & 0x03030303u) << 4) | ((s2 & 0x03030303u) << 6);
        }
        const u64 desc = hp_desc_sw128(sb + C::OFF_A + tb * 128);
        hp_wgmma_fence();
#pragma unroll
        for (int j = 0; j < 4; ++j) HpMma<BN>::run(d, a + 4 * j, desc + 2 * j, j);
        hp_wgmma_commit();
    };
    auto finish = [&](int it, int g, const int (&d)[BN / 2]) {
        const int s = it % ST;
        const unsigned char *sbp = reinterpret_cast<const unsigned char *>(hp_dsm) + (sbase + s * C::STAGE - sraw);
        const u16 *sws = reinterpret_cast<const u16 *>(sbp + C::OFF_SW + tl * 32);
        const float sw0 = h2f(sws[gid]), sw1 = h2f(sws[gid + 8]);
        const float nm0 = -12582912.0f * sw0, nm1 = -12582912.0f * sw1;  // exact: 2 + 11 significant bits
        const float *sas = reinterpret_cast<const float *>(sbp + C::OFF_SA) + tb + 2 * tig;
#pragma unroll
        for (int jj = 0; jj < (FLEXQ_HOPPER_DIAG == 1 ? 0 : BN / 8); ++jj) {
            const float2 sv = *reinterpret_cast<const float2 *>(sas + 8 * jj);
#pragma unroll
            for (int h = 0; h < 2; ++h)
#pragma unroll
                for (int e = 0; e < 2; ++e) {
                    const int i = 4 * jj + 2 * h + e;
                    const float sav = e ? sv.y : sv.x;
                    if (EXACT) {
                        acc[i] = __fadd_rn(acc[i], __fmul_rn(exact_i2f(d[i]), __fmul_rn(h ? sw1 : sw0, sav)));
                    } else {
                        const float u = __fmaf_rn(__int_as_float(d[i] + 0x4B400000), h ? sw1 : sw0, h ? nm1 : nm0);
                        acc[i] = __fmaf_rn(u, sav, acc[i]);
                    }
                    if (WITHP) {
                        const int r = r0 + 8 * h, t = t0 + tb + 8 * jj + 2 * tig + e;
                        if (r < N && t < M) P[((long long)t * N + r) * G + g] = d[i] >> 2;
                    }
                }
        }
        hp_bar_arrive(empty0 + 8 * s);
    };
    int it = 0;  // groups consumed by this block, over all its tiles (the producer's count)
    int d0[BN / 2], d1[BN / 2];
    // no zero fill: each group's first wgmma overwrites (scale-d 0), and a fill would be a non-wgmma definition of
    // the accumulators inside ptxas's pipeline analysis, which then serializes the wgmmas
    hp_fence_regs(d0);
    hp_fence_regs(d1);
    for (int tile = first; tile < tiles; tile += blocks) {
        int rb, tbk;
        hp_tile(tile, RB, TB, rb, tbk);
        t0 = tbk * C::TOKS;
        r0 = (rb * C::TILES + tl) * 16 + gid;
#pragma unroll
        for (int i = 0; i < BN / 2; ++i) acc[i] = 0.0f;
        if (!DB) {
            // one accumulator set: the warpgroup waits for its own wgmmas; the block's other consumer warpgroups
            // keep the tensor cores busy meanwhile
            for (int g = 0; g < G; ++g, ++it) {
                issue(it, d0);
                hp_wgmma_wait<0>();
                hp_fence_regs(d0);
                finish(it, g, d0);
            }
        } else {
            // two accumulator sets: group g+1's wgmmas run during group g's epilogue (wait_group 1 leaves them in
            // flight), which keeps two stages in the consumers' hands (STAGES >= 4). The steady state is
            // branch-free (ptxas serializes the wgmmas when a branch sits inside the pipeline), then the last
            // one or two groups; the pipeline drains at each tile's end.
            issue(it, d0);
            int g = 0;
            for (; g + 2 < G; g += 2) {
                issue(it + g + 1, d1);
                hp_wgmma_wait<1>();
                hp_fence_regs(d0);
                finish(it + g, g, d0);
                issue(it + g + 2, d0);
                hp_wgmma_wait<1>();
                hp_fence_regs(d1);
                finish(it + g + 1, g + 1, d1);
            }
            if (g + 1 < G) {
                issue(it + g + 1, d1);
                hp_wgmma_wait<1>();
                hp_fence_regs(d0);
                finish(it + g, g, d0);
                hp_wgmma_wait<0>();
                hp_fence_regs(d1);
                finish(it + g + 1, g + 1, d1);
            } else {
                hp_wgmma_wait<0>();
                hp_fence_regs(d0);
                finish(it + g, g, d0);
            }
            it += G;
        }
#pragma unroll
        for (int jj = 0; jj < BN / 8; ++jj)
#pragma unroll
            for (int h = 0; h < 2; ++h)
#pragma unroll
                for (int e = 0; e < 2; ++e) {
                    const int r = r0 + 8 * h, t = t0 + tb + 8 * jj + 2 * tig + e;
                    if (r < N && t < M) store_out(y, (long long)t * N + r, acc[4 * jj + 2 * h + e] * 0.25f);
                }
    }
#else
    __trap();  // built for another target than sm_90a: the host never launches these there
#endif
}

// ------------------------------------------------------------------------------ entry points
// Name: flexq_wg_ROWSxTOKS[_sST][_bMINB][_x (exact epilogue)][_db (double-buffered accumulators)][_bulk], plus `_p` (partials) and `_f16` / `_bf16` twins;
// each is launched with HpCfg::THREADS threads and HpCfg::SMEM bytes of dynamic shared memory (mirrored by
// KernelSpec and the test harness).
#define HP_DEF_ONE(name, WGR, WGC, BN, ST, MINB, EXACT, DB, BULK, WITHP, OUT) \
    extern "C" __global__ void __launch_bounds__((WGR * WGC + 1) * 128, MINB) name(GEMM_ARGS_T(OUT)) { \
        hp_gemm_body<WGR, WGC, BN, ST, MINB, EXACT, DB, BULK, WITHP, OUT>(wt, ws, act, sa, ldsa, y, P, M, N, G); }
#define HP_DEF(name, WGR, WGC, BN, ST, MINB, EXACT, DB, BULK) \
    HP_DEF_ONE(name, WGR, WGC, BN, ST, MINB, EXACT, DB, BULK, false, float) \
    HP_DEF_ONE(name##_p, WGR, WGC, BN, ST, MINB, EXACT, DB, BULK, true, float) \
    HP_DEF_ONE(name##_f16, WGR, WGC, BN, ST, MINB, EXACT, DB, BULK, false, OutF16) \
    HP_DEF_ONE(name##_bf16, WGR, WGC, BN, ST, MINB, EXACT, DB, BULK, false, OutBf16)

// The configurations (name, WGR, WGC, BN, STAGES, MINB, exact epilogue, double-buffered accumulators, weights by
// cp.async.bulk); the test harness (hopper_test.cu) reads this list, KernelSpec.WG mirrors it.
#if FLEXQ_HOPPER_DIAG  // diagnostics builds (hopper-diag.sh): the configs they time, so a build takes less device time
#define FLEXQ_WG_CONFIGS(X) X(flexq_wg_128x128, 2, 1, 128, 4, 1, false, false, false) X(flexq_wg_64x128_b2, 1, 1, 128, 4, 2, false, false, false) X(flexq_wg_128x64_db, 2, 1, 64, 6, 1, false, true, false)
#else
#define FLEXQ_WG_CONFIGS(X) \
    X(flexq_wg_128x128, 2, 1, 128, 4, 1, false, false, false) \
    X(flexq_wg_128x128_x, 2, 1, 128, 4, 1, true, false, false) \
    X(flexq_wg_128x128_s6, 2, 1, 128, 6, 1, false, false, false) \
    X(flexq_wg_128x128_bulk, 2, 1, 128, 4, 1, false, false, true) \
    X(flexq_wg_64x256, 1, 2, 128, 4, 1, false, false, false) \
    X(flexq_wg_128x64, 2, 1, 64, 6, 1, false, false, false) \
    X(flexq_wg_128x64_db, 2, 1, 64, 6, 1, false, true, false) \
    X(flexq_wg_192x64, 3, 1, 64, 6, 1, false, false, false) \
    X(flexq_wg_64x128_b2, 1, 1, 128, 4, 2, false, false, false) \
    X(flexq_wg_128x32, 2, 1, 32, 8, 1, false, false, false) \
    X(flexq_wg_128x32_bulk, 2, 1, 32, 8, 1, false, false, true) \
    X(flexq_wg_128x32_db, 2, 1, 32, 8, 1, false, true, false) \
    X(flexq_wg_128x16, 2, 1, 16, 8, 1, false, false, false) \
    X(flexq_wg_64x16_b2, 1, 1, 16, 8, 2, false, false, false) \
    X(flexq_wg_64x32_b2, 1, 1, 32, 8, 2, false, false, false) \
    X(flexq_wg_64x64_b2, 1, 1, 64, 6, 2, false, false, false) \
    X(flexq_wg_256x32, 4, 1, 32, 6, 1, false, false, false)
#endif
FLEXQ_WG_CONFIGS(HP_DEF)

// The `_tma` configs: as the config they name without the suffix, activations by TMA (natural-order records only: the
// map's rows are the records as they lie), weights by cp.async.bulk; entry points `name` and `name_p` (float y) with
// one more parameter, the tensor map. Prepared in session 12 and NOT YET RUN ON A GPU (no device time was left): only
// the test harness defines FLEXQ_HOPPER_TMA (hopper_test's `tma` mode checks them against the reference and their
// twins and times them), so the Java program does not carry them. No Java caller (the host would have to encode a map
// per activation buffer). Same argument order as HP_DEF.
#ifdef FLEXQ_HOPPER_TMA
#define HT_DEF_ONE(name, WGR, WGC, BN, ST, MINB, WITHP) \
    extern "C" __global__ void __launch_bounds__((WGR * WGC + 1) * 128, MINB) name(GEMM_ARGS_T(float), const __grid_constant__ HpTensorMap tmA) { \
        hp_gemm_body<WGR, WGC, BN, ST, MINB, false, false, true, WITHP, float, true>(wt, ws, act, sa, ldsa, y, P, M, N, G, &tmA); }
#define HT_DEF(name, WGR, WGC, BN, ST, MINB) HT_DEF_ONE(name, WGR, WGC, BN, ST, MINB, false) HT_DEF_ONE(name##_p, WGR, WGC, BN, ST, MINB, true)
#define FLEXQ_WT_CONFIGS(T) \
    T(flexq_wg_64x128_b2_tma, 1, 1, 128, 4, 2) \
    T(flexq_wg_128x128_tma, 2, 1, 128, 4, 1) \
    T(flexq_wg_128x64_tma, 2, 1, 64, 6, 1)
FLEXQ_WT_CONFIGS(HT_DEF)
#endif

// ============================================================================ smem-unpack (`_su`) kernels
// The kernels above unpack the 6-bit weights into wgmma's register A operand on the consumer warps, and ncu put
// the tensor pipe at 28.6% busy at M = 4096 (115 instructions per wgmma). The `_su` configurations move the unpack
// to the producer warpgroup: it brings the packed WG tiles of a group into shared memory with cp.async.bulk, unpacks
// them into an int8 weight tile in the same 128-byte-swizzle K-major form as the activation records, and the
// consumers issue wgmma with BOTH operands from shared-memory descriptors; their only other work is the per-group
// epilogue (the same FMA or exact forms as above, the same bound).
//
// int8 weight tile of a stage (the wgmma A operand): ROWS rows of 128 bytes; row m (block row) byte p holds
//   A[m][p] = 4 * code(m, g*128 + kperm(p))                                      (int8, codes << 2)
// i.e. the group position order of the activation records, so for every k-step j and q in 0..31 the A byte
// 32j + q of row m and the B byte 32j + q of token n name the same k (kperm(32j + q)), and sum_p A[m][p] B[n][p] =
// 4 * P[m][n]. Storage: byte p of row m at  m * 128 + (((p >> 4) ^ (m & 7)) << 4) + (p & 15)  (16-byte chunk c of
// row m at chunk c ^ (m & 7)): the 128-byte swizzle, exactly as the activation records are stored.
// From the WG tile: lane (gid, tig) of the unpacking warp gets, for k-step j, the words T0..T3 (hp layout comment
// above): byte b of Tn is A[16 tl + gid + 8 (n & 1)][32 j + 16 (n >> 1) + 4 tig + b], so Tn is stored as one 32-bit
// word at row m = 16 tl + gid + 8 (n & 1), chunk c = 2 j + (n >> 1), byte 4 tig in the chunk; m & 7 = gid. One warp
// store (fixed j, n) hits bank ((c ^ gid) * 4 + tig) mod 32: 32 distinct banks, no conflict.
//
// Shared-memory matrix descriptor (hp_desc_sw128, the same one as for the activations; PTX ISA "matrix descriptor
// format"): bits 0-13 start address >> 4; bits 16-29 leading byte offset >> 4 (unused by a swizzled K-major
// operand whose k-step stays inside one 128-byte row: set to 1); bits 32-45 stride byte offset >> 4 = 1024 >> 4
// (the distance between 8-row core-matrix groups: 8 rows x 128 bytes); bits 49-51 base offset 0 (every tile
// base is 1024-aligned); bits 62-63 layout 1 = 128-byte swizzle. The hardware computes the unswizzled address
// start + (m >> 3) * 1024 + (m & 7) * 128 + q for row m, byte q of the k-step, then XORs address bits 4-6 with
// bits 7-9 (= m & 7 because the base is 1024-aligned). k-step j starts at start + 32 j (descriptor + 2 j): the
// XOR then gives chunk (2 j + (q >> 4)) ^ (m & 7) of row m, which is where byte p = 32 j + q was stored.
// A (weights): start = the warpgroup's first row (64 cr rows * 128 bytes, 8192-aligned), 64 rows; B (tokens):
// start = the activation area, BN rows. wg_layout_model.py replays this address arithmetic on the host.
//
// Block: NCONS = WGR consumer warpgroups (64 rows each) + one producer warpgroup; tile ROWS = 64 WGR weights x
// TOKS = BN tokens (each consumer m64nBN, the same BN tokens). Stage layout (bytes, base 1024-aligned):
//   OFF_A  = 0                 TOKS * 128  activation records (cp.async 16 bytes, swizzled)
//   OFF_W8 = TOKS * 128        ROWS * 128  int8 weight tile (written by the producer's unpack, swizzled)
//   OFF_WP = OFF_W8 + ROWS*128 ROWS * 96   packed WG tiles (cp.async.bulk, 1536 bytes per 16-row tile)
//   OFF_SW = OFF_WP + ROWS*96  ROWS * 2    weight scales;  OFF_SA = OFF_SW + ROWS * 2: TOKS * 4 activation scales
// stage size rounded up to 1024; dynamic shared memory ST * stage + 1024.
// Barriers per stage: pfull (count 1 + the bulk bytes: producer thread 0 arrives with expect_tx), full (count 128:
// every producer thread, after its unpack stores and its cp.async copies, fence.proxy.async, arrive), empty (count
// 128 * NCONS). Producer iteration it (the block's group number): wait empty (stage reuse), issue the group's
// cp.async copies and bulk copies, then finish group it - UL: wait its pfull, unpack, cp.async.wait_group UL,
// fence.proxy.async, arrive full. UL <= ST - 2 keeps one unpacked stage ahead of single-buffered consumers
// (ST - 3 for the double-buffered ones, which hold two stages). The packed area of a stage is overwritten only
// after empty, i.e. after every producer thread's unpack reads of it (they arrived on full before the consumers
// could release it).
// `_sur` (PKREG): the packed tiles come by ld.global into the producer's registers instead (warp pwarp loads its
// tiles' words for group it and unpacks group it - 1's, loaded one iteration earlier; no pfull barriers, no packed
// area, so more stages fit). Why both: shared memory moves 128 bytes a clock per SM, and at m64n128k32 the wgmma
// operand reads alone take about 96 (A 2 KB + B 4 KB per 64-clock wgmma); per group of a 128 x 128 tile the bulk
// path adds 12 KB packed write + 12 KB read to the 16 KB activation and 16 KB int8 writes. Which wins is for the
// GPU run to say.
template <int WGR, int BN, int ST, int UL, int PRODREGS, bool PKREG> struct HsCfg {
    static constexpr int ROWS = 64 * WGR, TOKS = BN, TILES = ROWS / 16, NCONS = WGR;
    static constexpr int THREADS = (NCONS + 1) * 128;
    static constexpr int OFF_A = 0, OFF_W8 = TOKS * 128, OFF_WP = OFF_W8 + ROWS * 128,
                         OFF_SW = OFF_WP + (PKREG ? 0 : ROWS * 96), OFF_SA = OFF_SW + ROWS * 2;
    static constexpr int TPW = TILES / 4;  // weight tiles each producer warp unpacks per group
    static constexpr int STAGE = (OFF_SA + TOKS * 4 + 1023) / 1024 * 1024;
    static constexpr int SMEM = ST * STAGE + 1024;
    static constexpr int LAUNCH_REGS = (65536 / THREADS) / 8 * 8 > 255 ? 255 : (65536 / THREADS) / 8 * 8;
    static constexpr int PROD_REGS = PRODREGS;
    static constexpr int CONS_REGS_RAW = (LAUNCH_REGS * THREADS - 128 * PROD_REGS) / (128 * NCONS) / 8 * 8;
    static constexpr int CONS_REGS = CONS_REGS_RAW > 240 ? 240 : CONS_REGS_RAW;
    static_assert(OFF_W8 % 1024 == 0 && (64 * 128) % 1024 == 0, "descriptor bases must be 1024-aligned");
    static_assert(UL >= 1 && UL <= ST - 2, "unpack lag");
    static_assert(SMEM <= 227 * 1024, "shared memory of one sm_90 block");
    static_assert(128 * PROD_REGS + 128 * NCONS * CONS_REGS <= LAUNCH_REGS * THREADS, "setmaxnreg pool");
    static_assert(TILES % 4 == 0, "whole tiles per producer warp");
};

__device__ __forceinline__ void hs_st32(u32 smem, u32 v) { asm volatile("st.shared.b32 [%0], %1;\n" ::"r"(smem), "r"(v) : "memory"); }
__device__ __forceinline__ uint4 hs_ld128(u32 smem) {
    uint4 v;
    asm volatile("ld.shared.v4.b32 {%0, %1, %2, %3}, [%4];\n" : "=r"(v.x), "=r"(v.y), "=r"(v.z), "=r"(v.w) : "r"(smem) : "memory");
    return v;
}
__device__ __forceinline__ void hs_bar_arrive_tx(u32 bar, u32 bytes) {
    asm volatile("{\n.reg .b64 st;\nmbarrier.arrive.expect_tx.shared::cta.b64 st, [%0], %1;\n}\n" ::"r"(bar), "r"(bytes) : "memory");
}

// wgmma m64n128k32 s32 += s8 (A: descriptor) x s8 (B: descriptor); scaleD = 0 overwrites d.
__device__ __forceinline__ void hs_wgmma_ss_n128(int (&d)[64], u64 adesc, u64 bdesc, int scaleD) {
    asm volatile("{\n.reg .pred p;\nsetp.ne.b32 p, %66, 0;\n"
        "wgmma.mma_async.sync.aligned.m64n128k32.s32.s8.s8 {%0, %1, %2, %3, %4, %5, %6, %7, %8, %9, %10, %11, %12, %13, %14, %15, %16, %17, %18, %19, %20, %21, %22, %23, %24, %25, %26, %27, %28, %29, %30, %31, %32, %33, %34, %35, %36, %37, %38, %39, %40, %41, %42, %43, %44, %45, %46, %47, %48, %49, %50, %51, %52, %53, %54, %55, %56, %57, %58, %59, %60, %61, %62, %63}, %64, %65, p;\n}\n"
        : "+r"(d[0]), "+r"(d[1]), "+r"(d[2]), "+r"(d[3]), "+r"(d[4]), "+r"(d[5]), "+r"(d[6]), "+r"(d[7]), "+r"(d[8]), "+r"(d[9]), "+r"(d[10]), "+r"(d[11]), "+r"(d[12]), "+r"(d[13]), "+r"(d[14]), "+r"(d[15]), "+r"(d[16]), "+r"(d[17]), "+r"(d[18]), "+r"(d[19]), "+r"(d[20]), "+r"(d[21]), "+r"(d[22]), "+r"(d[23]), "+r"(d[24]), "+r"(d[25]), "+r"(d[26]), "+r"(d[27]), "+r"(d[28]), "+r"(d[29]), "+r"(d[30]), "+r"(d[31]), "+r"(d[32]), "+r"(d[33]), "+r"(d[34]), "+r"(d[35]), "+r"(d[36]), "+r"(d[37]), "+r"(d[38]), "+r"(d[39]), "+r"(d[40]), "+r"(d[41]), "+r"(d[42]), "+r"(d[43]), "+r"(d[44]), "+r"(d[45]), "+r"(d[46]), "+r"(d[47]), "+r"(d[48]), "+r"(d[49]), "+r"(d[50]), "+r"(d[51]), "+r"(d[52]), "+r"(d[53]), "+r"(d[54]), "+r"(d[55]), "+r"(d[56]), "+r"(d[57]), "+r"(d[58]), "+r"(d[59]), "+r"(d[60]), "+r"(d[61]), "+r"(d[62]), "+r"(d[63])
        : "l"(adesc), "l"(bdesc), "r"(scaleD)
        : "memory");
}
// wgmma m64n16k32, both operands from descriptors (the probe's smem-A check)
__device__ __forceinline__ void hs_wgmma_ss_n16(int (&d)[8], u64 adesc, u64 bdesc, int scaleD) {
    asm volatile("{\n.reg .pred p;\nsetp.ne.b32 p, %10, 0;\n"
        "wgmma.mma_async.sync.aligned.m64n16k32.s32.s8.s8 {%0, %1, %2, %3, %4, %5, %6, %7}, %8, %9, p;\n}\n"
        : "+r"(d[0]), "+r"(d[1]), "+r"(d[2]), "+r"(d[3]), "+r"(d[4]), "+r"(d[5]), "+r"(d[6]), "+r"(d[7])
        : "l"(adesc), "l"(bdesc), "r"(scaleD)
        : "memory");
}

// One warp unpacks 16-row WG tile tl into rows 16 tl .. 16 tl + 15 of the int8 tile at dst (layout above): w holds
// the lane's 12 words of the tile (words 0-3 at tile byte lane * 16, 4-7 at 512 + lane * 16, 8-11 at 1024 + lane * 16).
__device__ __forceinline__ void hs_unpack_words(const uint4 &q0, const uint4 &q1, const uint4 &q2, u32 dst, int tl, int lane) {
    const int gid = lane >> 2, tig = lane & 3;
    const u32 w[12] = {q0.x, q0.y, q0.z, q0.w, q1.x, q1.y, q1.z, q1.w, q2.x, q2.y, q2.z, q2.w};
    const u32 row0 = dst + (u32)(16 * tl + gid) * 128u + (u32)tig * 4u, row1 = row0 + 8 * 128;
#pragma unroll
    for (int j = 0; j < 4; ++j) {
        const u32 s0 = w[3 * j], s1 = w[3 * j + 1], s2 = w[3 * j + 2];
        const u32 c0 = (u32)((2 * j) ^ gid) << 4, c1 = (u32)((2 * j + 1) ^ gid) << 4;
        hs_st32(row0 + c0, s0 & 0xFCFCFCFCu);                                                            // T0
        hs_st32(row1 + c0, s1 & 0xFCFCFCFCu);                                                            // T1
        hs_st32(row0 + c1, s2 & 0xFCFCFCFCu);                                                            // T2
        hs_st32(row1 + c1, ((s0 & 0x03030303u) << 2) | ((s1 & 0x03030303u) << 4) | ((s2 & 0x03030303u) << 6));  // T3
    }
}
// The same from the packed tile in shared memory (1536 bytes at src). Also used by the probe.
__device__ __forceinline__ void hs_unpack_tile(u32 src, u32 dst, int tl, int lane) {
    hs_unpack_words(hs_ld128(src + lane * 16), hs_ld128(src + 512 + lane * 16), hs_ld128(src + 1024 + lane * 16), dst, tl, lane);
}

template <int WGR, int BN, int ST, int UL, int PRODREGS, bool PKREG, bool EXACT, bool DB, bool WITHP, typename OutT>
__device__ __forceinline__ void hs_gemm_body(const uint4 *__restrict__ wt, const u16 *__restrict__ ws,
                                             const uint4 *__restrict__ act, const float *__restrict__ sa, int ldsa,
                                             OutT *__restrict__ y, int *__restrict__ P, int M, int N, int G) {
    pdl_launch();  // as hp_gemm_body
    pdl_wait();
#if FLEXQ_HOPPER
    typedef HsCfg<WGR, BN, ST, UL, PRODREGS, PKREG> C;
    static_assert(BN == 128, "the consumers' wgmma wrapper is m64n128");
    __shared__ __align__(8) u64 bars[3 * ST];  // full[0..ST), empty[0..ST), pfull[0..ST)
    extern __shared__ uint4 hp_dsm[];
    const u32 sraw = (u32)__cvta_generic_to_shared(hp_dsm);
    const u32 sbase = (sraw + 1023u) & ~1023u;
    const u32 full0 = (u32)__cvta_generic_to_shared(bars), empty0 = full0 + 8 * ST, pfull0 = full0 + 16 * ST;
    const int tid = threadIdx.x, wg = tid >> 7;
    const int Rt = (N + 15) >> 4;
    const int RB = (N + C::ROWS - 1) / C::ROWS, TB = (M + C::TOKS - 1) / C::TOKS, tiles = RB * TB;
    const int blocks = gridDim.x * gridDim.y, first = blockIdx.y * gridDim.x + blockIdx.x;
    if (tid == 0) {
        for (int s = 0; s < ST; ++s) {
            hp_bar_init(full0 + 8 * s, 128);
            hp_bar_init(empty0 + 8 * s, 128 * C::NCONS);
            if (!PKREG) hp_bar_init(pfull0 + 8 * s, 1);
        }
        asm volatile("fence.mbarrier_init.release.cluster;\n" ::: "memory");
    }
    __syncthreads();

    if (wg == C::NCONS) {
        // ------------------------------------------------------------------------------ producer
        hp_setmaxnreg_dec<C::PROD_REGS>();
        const int ptid = tid - 128 * C::NCONS, pwarp = ptid >> 5, lane = tid & 31;
        constexpr int CH_A = C::TOKS * 8, CH_SW = C::TILES * 2, CH_SA = C::TOKS / 4, UA = CH_A / 128;
        static_assert(CH_A % 128 == 0 && UA <= 32 && CH_SW <= 128 && CH_SA <= 128, "copy plan");
        // unpack(u) (bulk path): wait for group u's packed tiles, unpack them (warp pwarp takes tiles pwarp,
        // pwarp + 4, ..) into the stage's int8 tile. unpack_regs(u) (PKREG): the same from the words in cur.
        // publish(u): after the caller has made this thread's cp.async copies of group u complete, hand the stage to
        // the consumers.
        auto unpack = [&](int u) {
            const int s = u % ST;
            const u32 sb = sbase + s * C::STAGE;
            hp_bar_wait(pfull0 + 8 * s, (u / ST) & 1);
#pragma unroll
            for (int tl = pwarp; tl < C::TILES; tl += 4) hs_unpack_tile(sb + C::OFF_WP + tl * 1536, sb + C::OFF_W8, tl, lane);
        };
        // PKREG: two register sets, group u's words in set u & 1 (set by static index in both branches below, so
        // no register copy waits for a load in flight: a load's first use is the unpack one iteration later)
        uint4 wa[C::TPW][3], wb[C::TPW][3];
        auto load_regs = [&](uint4 (&w)[C::TPW][3], const uint4 *wlane, int rt0, int g) {
#pragma unroll
            for (int i = 0; i < C::TPW; ++i) {
                const uint4 *src = wlane + ((long long)min(rt0 + pwarp + 4 * i, Rt - 1) * G + g) * 96;
                w[i][0] = __ldg(src);
                w[i][1] = __ldg(src + 32);
                w[i][2] = __ldg(src + 64);
            }
        };
        auto unpack_regs = [&](const uint4 (&w)[C::TPW][3], int u) {
            const u32 sb = sbase + (u % ST) * C::STAGE;
#pragma unroll
            for (int i = 0; i < C::TPW; ++i) hs_unpack_words(w[i][0], w[i][1], w[i][2], sb + C::OFF_W8, pwarp + 4 * i, lane);
        };
        auto publish = [&](int u) {
            hp_fence_async_smem();  // this thread's st.shared and completed cp.async writes -> visible to wgmma
            hp_bar_arrive(full0 + 8 * (u % ST));
        };
        int it = 0;
        for (int tile = first; tile < tiles; tile += blocks) {
            int rb, tbk;
            hp_tile(tile, RB, TB, rb, tbk);
            const int rt0 = rb * C::TILES, t0 = tbk * C::TOKS;
            const int ntl = min(C::TILES, Rt - rt0);  // packed tiles that exist (rows past N: stale int8, never stored)
            u32 aoff[UA], valid = 0;
#pragma unroll
            for (int u = 0; u < UA; ++u) {
                const int q = ptid + u * 128, tt = q >> 3, c = q & 7;
                const bool ok = t0 + tt < M;
                valid |= (u32)ok << u;
                aoff[u] = (u32)((ok ? t0 + tt : 0) * G) * 8u + (u32)c;
            }
            const bool sok = ptid < CH_SW && rt0 + (ptid >> 1) < Rt;
            const uint4 *ssrc = reinterpret_cast<const uint4 *>(ws) + ((long long)(sok ? rt0 + (ptid >> 1) : 0) * G) * 2 + (ptid & 1);
            const bool aaok = ptid < CH_SA && t0 + 4 * ptid < ldsa;
            const float *sasrc = sa + (aaok ? t0 + 4 * ptid : 0);
            const uint4 *wsrc = wt + (long long)rt0 * G * 96;
            // PKREG: this warp's tiles pwarp + 4 i, this lane's three 16-byte words of each (flexq_repack_wg order)
            const uint4 *wlane = wt + lane;
            for (int g = 0; g < G; ++g, ++it) {
                const int s = it % ST;
                if (it >= ST) hp_bar_wait(empty0 + 8 * s, ((it / ST) - 1) & 1);
                const u32 sb = sbase + s * C::STAGE;
#pragma unroll
                for (int u = 0; u < UA; ++u) {
                    const int q = ptid + u * 128, tt = q >> 3, c = q & 7;
                    hp_cp16(sb + C::OFF_A + tt * 128 + ((c ^ (tt & 7)) << 4), act + aoff[u] + (u32)g * 8u, (valid >> u) & 1);
                }
                if (ptid < CH_SW) hp_cp16(sb + C::OFF_SW + ptid * 16, ssrc + (long long)g * 2, sok);
                if (ptid < CH_SA) hp_cp16(sb + C::OFF_SA + ptid * 16, sasrc + (long long)g * ldsa, aaok);
                hp_cp_commit();
                if (PKREG) {
                    // registers, one group deep: load group it's packed words, unpack group it - 1's (loaded one
                    // iteration ago) into its stage; a tile past N loads the last tile's words instead (its rows
                    // are never stored)
                    if (it & 1) {
                        load_regs(wb, wlane, rt0, g);
                        unpack_regs(wa, it - 1);
                    } else {
                        load_regs(wa, wlane, rt0, g);
                        if (it >= 1) unpack_regs(wb, it - 1);
                    }
                } else if (ptid == 0) {
                    // expect_tx is part of the arrival, before any copy can complete its bytes
                    hs_bar_arrive_tx(pfull0 + 8 * s, 1536u * (u32)ntl);
                    for (int i = 0; i < ntl; ++i)
                        hp_bulk_g2s(sb + C::OFF_WP + i * 1536, wsrc + ((long long)i * G + g) * 96, 1536u, pfull0 + 8 * s);
                }
                if (it >= UL) {
                    if (!PKREG) unpack(it - UL);
                    hp_cp_wait<UL>();
                    publish(it - UL);
                }
            }
        }
        if (PKREG && it >= 1) {
            if (it & 1) unpack_regs(wa, it - 1);
            else unpack_regs(wb, it - 1);
        }
        hp_cp_wait<0>();
        for (int u = it - UL < 0 ? 0 : it - UL; u < it; ++u) {
            if (!PKREG) unpack(u);
            publish(u);
        }
        return;
    }

    // ---------------------------------------------------------------------------------- consumers
    hp_setmaxnreg_inc<C::CONS_REGS>();
    const int lane = tid & 31, warp = (tid >> 5) & 3, gid = lane >> 2, tig = lane & 3;
    const int cr = wg;                     // this warpgroup's 64 rows: cr * 64 ..
    const int tl = cr * 4 + warp;          // this warp's 16-row tile within the block
    int t0 = 0, r0 = 0;
    float acc[BN / 2];
    auto issue = [&](int it, int (&d)[BN / 2]) {
        const int s = it % ST;
        hp_bar_wait(full0 + 8 * s, (it / ST) & 1);
        const u32 sb = sbase + s * C::STAGE;
        const u64 adesc = hp_desc_sw128(sb + C::OFF_W8 + cr * 64 * 128), bdesc = hp_desc_sw128(sb + C::OFF_A);
        hp_wgmma_fence();
#pragma unroll
        for (int j = 0; j < 4; ++j) hs_wgmma_ss_n128(d, adesc + 2 * j, bdesc + 2 * j, j);
        hp_wgmma_commit();
    };
    auto finish = [&](int it, int g, const int (&d)[BN / 2]) {
        const int s = it % ST;
        const unsigned char *sbp = reinterpret_cast<const unsigned char *>(hp_dsm) + (sbase + s * C::STAGE - sraw);
        const u16 *sws = reinterpret_cast<const u16 *>(sbp + C::OFF_SW + tl * 32);
        const float sw0 = h2f(sws[gid]), sw1 = h2f(sws[gid + 8]);
        const float nm0 = -12582912.0f * sw0, nm1 = -12582912.0f * sw1;  // exact: 2 + 11 significant bits
        const float *sas = reinterpret_cast<const float *>(sbp + C::OFF_SA) + 2 * tig;
#pragma unroll
        for (int jj = 0; jj < BN / 8; ++jj) {
            const float2 sv = *reinterpret_cast<const float2 *>(sas + 8 * jj);
#pragma unroll
            for (int h = 0; h < 2; ++h)
#pragma unroll
                for (int e = 0; e < 2; ++e) {
                    const int i = 4 * jj + 2 * h + e;
                    const float sav = e ? sv.y : sv.x;
                    if (EXACT) {
                        acc[i] = __fadd_rn(acc[i], __fmul_rn(exact_i2f(d[i]), __fmul_rn(h ? sw1 : sw0, sav)));
                    } else {
                        const float u = __fmaf_rn(__int_as_float(d[i] + 0x4B400000), h ? sw1 : sw0, h ? nm1 : nm0);
                        acc[i] = __fmaf_rn(u, sav, acc[i]);
                    }
                    if (WITHP) {
                        const int r = r0 + 8 * h, t = t0 + 8 * jj + 2 * tig + e;
                        if (r < N && t < M) P[((long long)t * N + r) * G + g] = d[i] >> 2;
                    }
                }
        }
        hp_bar_arrive(empty0 + 8 * s);
    };
    int it = 0;
    int d0[BN / 2], d1[BN / 2];
    hp_fence_regs(d0);
    if (DB) hp_fence_regs(d1);
    for (int tile = first; tile < tiles; tile += blocks) {
        int rb, tbk;
        hp_tile(tile, RB, TB, rb, tbk);
        t0 = tbk * C::TOKS;
        r0 = (rb * C::TILES + tl) * 16 + gid;
#pragma unroll
        for (int i = 0; i < BN / 2; ++i) acc[i] = 0.0f;
        if (!DB) {
            for (int g = 0; g < G; ++g, ++it) {
                issue(it, d0);
                hp_wgmma_wait<0>();
                hp_fence_regs(d0);
                finish(it, g, d0);
            }
        } else {
            // as hp_gemm_body's _db path: group g+1's wgmmas run during group g's epilogue
            issue(it, d0);
            int g = 0;
            for (; g + 2 < G; g += 2) {
                issue(it + g + 1, d1);
                hp_wgmma_wait<1>();
                hp_fence_regs(d0);
                finish(it + g, g, d0);
                issue(it + g + 2, d0);
                hp_wgmma_wait<1>();
                hp_fence_regs(d1);
                finish(it + g + 1, g + 1, d1);
            }
            if (g + 1 < G) {
                issue(it + g + 1, d1);
                hp_wgmma_wait<1>();
                hp_fence_regs(d0);
                finish(it + g, g, d0);
                hp_wgmma_wait<0>();
                hp_fence_regs(d1);
                finish(it + g + 1, g + 1, d1);
            } else {
                hp_wgmma_wait<0>();
                hp_fence_regs(d0);
                finish(it + g, g, d0);
            }
            it += G;
        }
#pragma unroll
        for (int jj = 0; jj < BN / 8; ++jj)
#pragma unroll
            for (int h = 0; h < 2; ++h)
#pragma unroll
                for (int e = 0; e < 2; ++e) {
                    const int r = r0 + 8 * h, t = t0 + 8 * jj + 2 * tig + e;
                    if (r < N && t < M) store_out(y, (long long)t * N + r, acc[4 * jj + 2 * h + e] * 0.25f);
                }
    }
#else
    __trap();
#endif
}

// Entry points: flexq_wg_ROWSxTOKS_su[_db][_sST] (+ `_p`, `_f16`, `_bf16` twins, as HP_DEF), launched with
// HsCfg::THREADS threads and HsCfg::SMEM bytes of dynamic shared memory; same arguments and weight layout (WG
// tiles, flexq_repack_wg) as the kernels above; FMA epilogue unless EXACT. The list is FLEXQ_WS_CONFIGS (a
// separate list: KernelSpec.WG mirrors FLEXQ_WG_CONFIGS only; no Java caller uses these yet).
#define HS_DEF_ONE(name, WGR, BN, ST, UL, PR, PKREG, EXACT, DB, WITHP, OUT) \
    extern "C" __global__ void __launch_bounds__((WGR + 1) * 128, 1) name(GEMM_ARGS_T(OUT)) { \
        hs_gemm_body<WGR, BN, ST, UL, PR, PKREG, EXACT, DB, WITHP, OUT>(wt, ws, act, sa, ldsa, y, P, M, N, G); }
#define HS_DEF(name, WGR, BN, ST, UL, PR, PKREG, EXACT, DB) \
    HS_DEF_ONE(name, WGR, BN, ST, UL, PR, PKREG, EXACT, DB, false, float) \
    HS_DEF_ONE(name##_p, WGR, BN, ST, UL, PR, PKREG, EXACT, DB, true, float) \
    HS_DEF_ONE(name##_f16, WGR, BN, ST, UL, PR, PKREG, EXACT, DB, false, OutF16) \
    HS_DEF_ONE(name##_bf16, WGR, BN, ST, UL, PR, PKREG, EXACT, DB, false, OutBf16)

// (name, WGR, BN, STAGES, lag UL, producer registers, packed weights by registers (`_sur`), exact epilogue,
//  double-buffered accumulators)
#if FLEXQ_HOPPER_DIAG
#define FLEXQ_WS_CONFIGS(S)
#else
#define FLEXQ_WS_CONFIGS(S) \
    S(flexq_wg_128x128_su, 2, 128, 5, 3, 56, false, false, false) \
    S(flexq_wg_128x128_su_s4, 2, 128, 4, 2, 56, false, false, false) \
    S(flexq_wg_128x128_su_db, 2, 128, 5, 2, 56, false, false, true) \
    S(flexq_wg_192x128_su, 3, 128, 3, 1, 56, false, false, false) \
    S(flexq_wg_128x128_sur, 2, 128, 6, 3, 96, true, false, false) \
    S(flexq_wg_128x128_sur_db, 2, 128, 6, 3, 72, true, false, true)
#endif
FLEXQ_WS_CONFIGS(HS_DEF)
