package io.flexq.cuda;

import java.util.List;
import java.util.Optional;

/**
 * One GEMM/GEMV entry point of flexq.cu and its launch geometry; {@link #ALL} mirrors the DEF_GEMV /
 * DEF_GEMM lines at the bottom of the source (a test checks that every name resolves in the module).
 *
 * <ul>
 *   <li>GEMV: warp = 16 rows x {@code 8 * nt} tokens x a K range; blocks of 4 warps; grid
 *       (ceil(rowTiles / 4), splits, ceil(M / (8 * nt))); splits > 1 add into a zeroed output.</li>
 *   <li>Ordered GEMV ({@link #ordered()}, M &lt;= 8): block = one 16-row tile x all of K, its {@code wr} warps
 *       splitting the groups and the group terms summed in group order in shared memory; grid (rowTiles);
 *       {@code G * M * 64} bytes of dynamic shared memory; exact like an unsplit launch, never split.</li>
 *   <li>GEMM: block = {@code wr * mt * 16} rows x {@code wt * nt * 8} tokens, {@code wr * wt} warps, one
 *       128-wide group per pipeline stage, {@code stages} stages of
 *       {@code rows * 98 + toks * 132} bytes of dynamic shared memory.</li>
 *   <li>WG (hopper.cu, sm_90a only): block = {@code 64 * wr} rows x {@code 8 * nt * wt} tokens, one producer and
 *       {@code wr * wt} consumer warpgroups ({@code (wr * wt + 1) * 128} threads), {@code stages} stages of
 *       {@code roundUp(toks * 132 + rows * 98, 1024)} bytes plus 1024 bytes of alignment slack; weights in the WG
 *       tile layout ({@link FlexqKernels#repackWg}); grid (ceil(N / rows), ceil(M / toks)). Not in {@link #ALL}
 *       (whose kernels run on every architecture): {@link #WG} lists them.</li>
 * </ul>
 *
 * @param abits 6 or 8 for the bit-serial kernels (activation planes), 0 for I8 and WG kernels (any mode)
 */
public record KernelSpec(String name, boolean gemm, Path path, int abits, int wr, int wt, int mt, int nt, int stages, boolean ordered) {

    /** How a 16 x 8 x 128 tile product is computed. */
    public enum Path {
        /** bit planes, mma.sync m16n8k256 / m16n8k128 b1 AND+popc, pairs of planes with equal weight fused */
        BTC,
        /** bit planes, every plane pair as two m8n8k128 (the FlexQ paper's instruction) */
        PAPER,
        /** 6-bit codes unpacked to int8 in registers, four mma.sync m16n8k32 s8 */
        I8,
        /**
         * hopper.cu (sm_90a): wgmma m64nNk32 s8 with the weights as the register operand (WG tile layout, the I8
         * unpacking in the wgmma k order) and the int8 activation records as the shared-memory operand
         */
        WG;

        /** Whether the path reads the bit-plane weight and activation layouts (else the int8 ones; WG: int8 records). */
        public boolean planes() {
            return this == BTC || this == PAPER;
        }
    }

    public static final int GEMV_WARPS = 4;
    /** Warps of an ordered GEMV block (ORD_WARPS in flexq.cu) and the most tokens it takes. */
    public static final int ORDERED_WARPS = 8, ORDERED_MAX_TOKENS = 8;

    static KernelSpec gemv(String name, Path path, int abits, int nt) {
        return new KernelSpec(name, false, path, abits, GEMV_WARPS, 1, 1, nt, 0, false);
    }

    static KernelSpec gemm(String name, Path path, int abits, int wr, int wt, int mt, int nt, int stages) {
        return new KernelSpec(name, true, path, abits, wr, wt, mt, nt, stages, false);
    }

    static KernelSpec ordered(String name) {
        return new KernelSpec(name, false, Path.I8, 0, ORDERED_WARPS, 1, 1, 1, 0, true);
    }

    public static final List<KernelSpec> ALL = List.of(
            gemv("flexq_gemv_btc_a6_nt1", Path.BTC, 6, 1), gemv("flexq_gemv_btc_a8_nt1", Path.BTC, 8, 1),
            gemv("flexq_gemv_btc_a6_nt2", Path.BTC, 6, 2), gemv("flexq_gemv_btc_a8_nt2", Path.BTC, 8, 2),
            gemv("flexq_gemv_btc_a6_nt4", Path.BTC, 6, 4), gemv("flexq_gemv_btc_a8_nt4", Path.BTC, 8, 4),
            gemv("flexq_gemv_paper_a6_nt1", Path.PAPER, 6, 1), gemv("flexq_gemv_paper_a8_nt1", Path.PAPER, 8, 1),
            ordered("flexq_gemv_i8_ord"),
            gemv("flexq_gemv_i8_nt1", Path.I8, 0, 1), gemv("flexq_gemv_i8_nt2", Path.I8, 0, 2), gemv("flexq_gemv_i8_nt4", Path.I8, 0, 4),
            gemm("flexq_gemm_i8_128x128", Path.I8, 0, 2, 4, 4, 4, 4),
            gemm("flexq_gemm_i8_128x128w16", Path.I8, 0, 4, 4, 2, 4, 4),
            gemm("flexq_gemm_i8_256x64", Path.I8, 0, 4, 2, 4, 4, 3),
            gemm("flexq_gemm_i8_64x128", Path.I8, 0, 2, 4, 2, 4, 4),
            gemm("flexq_gemm_i8_64x128b2", Path.I8, 0, 2, 4, 2, 4, 4),
            gemm("flexq_gemm_i8_128x32", Path.I8, 0, 4, 1, 2, 4, 4),
            gemm("flexq_gemm_btc_a6_128x64", Path.BTC, 6, 4, 2, 2, 4, 3),
            gemm("flexq_gemm_btc_a8_128x64", Path.BTC, 8, 4, 2, 2, 4, 3));

    static KernelSpec wg(String name, int wgr, int wgc, int bn, int stages) {
        return new KernelSpec(name, true, Path.WG, 0, wgr, wgc, 4, bn / 8, stages, false);
    }

    /**
     * The wgmma kernels of hopper.cu (its FLEXQ_WG_CONFIGS list; a test checks the mirror). Names ending in
     * {@code _x} use the exact epilogue (y bit for bit as the contract's reference); the others the FMA epilogue,
     * within {@code (G + 1) * 2^-23 * sum_g |P sw sa|} of it (inside the contract's split-K bound).
     */
    public static final List<KernelSpec> WG = List.of(
            wg("flexq_wg_128x128", 2, 1, 128, 4), wg("flexq_wg_128x128_x", 2, 1, 128, 4), wg("flexq_wg_128x128_s6", 2, 1, 128, 6),
            wg("flexq_wg_128x128_bulk", 2, 1, 128, 4), wg("flexq_wg_128x32_bulk", 2, 1, 32, 8),
            wg("flexq_wg_64x256", 1, 2, 128, 4), wg("flexq_wg_128x64", 2, 1, 64, 6), wg("flexq_wg_128x64_db", 2, 1, 64, 6),
            wg("flexq_wg_64x128_b2", 1, 1, 128, 4), wg("flexq_wg_128x32", 2, 1, 32, 8), wg("flexq_wg_128x32_db", 2, 1, 32, 8),
            wg("flexq_wg_128x16", 2, 1, 16, 8), wg("flexq_wg_64x16_b2", 1, 1, 16, 8), wg("flexq_wg_64x32_b2", 1, 1, 32, 8),
            wg("flexq_wg_64x64_b2", 1, 1, 64, 6), wg("flexq_wg_256x32", 4, 1, 32, 6), wg("flexq_wg_192x64", 3, 1, 64, 6));

    public static Optional<KernelSpec> byName(String name) {
        return java.util.stream.Stream.concat(ALL.stream(), WG.stream()).filter(k -> k.name.equals(name)).findFirst();
    }

    /** Output rows per block (GEMM) or per block of warps (GEMV). */
    public int rows() {
        return gemm ? wr * mt * 16 : ordered ? 16 : GEMV_WARPS * 16;
    }

    /** Tokens per block (GEMM) or per warp (GEMV). */
    public int toks() {
        return gemm ? wt * nt * 8 : nt * 8;
    }

    public int threads() {
        return path == Path.WG ? (wr * wt + 1) * 128 : gemm ? wr * wt * 32 : ordered ? ORDERED_WARPS * 32 : GEMV_WARPS * 32;
    }

    /** Dynamic shared memory per block in bytes (0 for the split GEMV). */
    public int sharedBytes() {
        if (path == Path.WG) {
            return stages * ((toks() * 132 + rows() * 98 + 1023) / 1024 * 1024) + 1024;
        }
        return gemm ? stages * (rows() * 98 + toks() * 132) : 0;
    }

    /** Groups of K one round of the ordered GEMV's warps takes (ORD_WARPS * ORD_BATCH in flexq.cu). */
    public static final int ORDERED_ROUND_GROUPS = ORDERED_WARPS * 4;

    /**
     * Whether an ordered GEMV over K = cols runs its {@code _deep} entry point (flexq.cu gemv_ord_body's DEEP): K past
     * one round of groups; {@code flexq.cuda.deepGemv=false} (read per launch) keeps the lean one (A/B runs).
     */
    public static boolean orderedDeep(int cols) {
        return FlexqKernels.groups(cols) > ORDERED_ROUND_GROUPS && !"false".equals(System.getProperty("flexq.cuda.deepGemv"));
    }

    /** Dynamic shared memory of an ordered GEMV block for M tokens and K columns: one float per (group, token, row). */
    public static int orderedSharedBytes(int tokens, int cols) {
        return FlexqKernels.groups(cols) * tokens * 16 * 4;
    }

    /** Whether the source defines the 16-bit output twins {@code name_f16} / {@code name_bf16} (INT8-MMA and WG kernels). */
    public boolean hasOutputTwins() {
        return path == Path.I8 || path == Path.WG;
    }

    /** Whether y equals the contract's reference bit for bit on an unsplit launch (all but the FMA-epilogue WG kernels). */
    public boolean exactOutput() {
        return path != Path.WG || name.endsWith("_x");
    }

    /** Whether this kernel serves activations of {@code bits} (6 or 8). */
    public boolean accepts(int bits) {
        return abits == 0 || abits == bits;
    }
}
