package io.flexq.runtime.cpu;

import io.flexq.runtime.spi.ActivationBatch;
import io.flexq.runtime.tensor.FloatTypes;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.util.Random;
import java.util.concurrent.ForkJoinPool;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * BF16 prompts with bf16 activations ({@link NativeBf16}) against float64, on random ragged shapes (rows across the
 * 4-row tile and the 16-row chunks, row lengths with and without a tail of fewer than 32 columns, token counts across
 * the 4-token and 32-token tiles, activations of mixed magnitude):
 * <ul>
 *   <li>the bf16 path: float64 of the weights times the activations rounded to bf16 by this test (round to nearest,
 *   ties to even, on the float's bits), within the fp32 sums' bound (cols / 16 + cols % 32 + 8) * 2^-24 * sum |w xb|
 *   (plus the subnormal weights' products, which vdpbf16ps reads as zero): one wrong, dropped or unrounded activation
 *   moves a row by far more;</li>
 *   <li>the fp32 activations: float64 of the weights times x, within that bound plus the rounding, 2^-8 * sum |w x|;</li>
 *   <li>the split: pool chunks and single row ranges give the same bits.</li>
 * </ul>
 */
class NativeBf16GemmTest {

    @Test
    void bf16PromptsMatchFloat64WithinTheActivationRoundingAndAreSplitIndependent() {
        Assumptions.assumeTrue(NativeBf16.available(), "no AVX-512 BF16 prompt kernel here");
        long seed = 1316L;
        Random rnd = new Random(seed);
        CpuBackend backend = new CpuBackend(new ForkJoinPool(3));
        try (Arena arena = Arena.ofShared()) {
            for (int trial = 0; trial < 16; trial++) {
                int cols = trial % 2 == 0 ? 32 * (1 + rnd.nextInt(40)) : 1 + rnd.nextInt(1300);
                int rows = 1 + rnd.nextInt(70);
                int tokens = NativeBf16.MIN_TOKENS + rnd.nextInt(37);
                KernelCheck.Case c = KernelCheck.Case.random(FloatTypes.BF16, rows, cols, rnd);
                CpuMatrix m = backend.load("w", FloatTypes.BF16, rows, cols, c.segment(arena, trial % 3 != 0));
                ActivationBatch in = KernelCheck.scaledBatch(arena, tokens, cols, rnd, false);
                ActivationBatch out = ActivationBatch.allocate(arena, tokens, rows);
                m.matmul(in, out);
                String ctx = "seed " + seed + ", trial " + trial + ", BF16 " + rows + "x" + cols + ", " + tokens + " tokens";
                check(c, in, out, ctx);
                KernelCheck.assertRowRangesEqualWhole(m, in, out, arena, rnd, ctx);
            }
        }
    }

    @Test
    void aNonFiniteActivationGivesANonFiniteResultForItsTokenOnly() {
        Assumptions.assumeTrue(NativeBf16.available(), "no AVX-512 BF16 prompt kernel here");
        Random rnd = new Random(7);
        CpuBackend backend = new CpuBackend(new ForkJoinPool(1));
        try (Arena arena = Arena.ofShared()) {
            KernelCheck.Case c = KernelCheck.Case.random(FloatTypes.BF16, 20, 70, rnd);
            CpuMatrix m = backend.load("w", FloatTypes.BF16, 20, 70, c.segment(arena, true));
            ActivationBatch in = KernelCheck.randomBatch(arena, 5, 70, rnd);
            in.set(2, 40, Float.NaN);
            in.set(3, 66, Float.NaN); // in the tail past the last 32 columns
            ActivationBatch out = ActivationBatch.allocate(arena, 5, 20);
            m.matmul(in, out);
            for (int r = 0; r < 20; r++) {
                assertTrue(Float.isNaN(out.get(2, r)) && Float.isNaN(out.get(3, r)), "row " + r + " of the tokens with NaN");
                assertTrue(Float.isFinite(out.get(0, r)) && Float.isFinite(out.get(4, r)), "row " + r + " of a finite token");
            }
        }
    }

    /** Round to nearest, ties to even, to bf16 (the upper 16 bits of a float), returned as the float it is. */
    static float bf16(float x) {
        int bits = Float.floatToRawIntBits(x);
        int rounded = (bits + 0x7fff + ((bits >>> 16) & 1)) & 0xffff0000;
        return Float.intBitsToFloat(rounded);
    }

    /** Both float64 checks of the class comment, for every (token, row). */
    private static void check(KernelCheck.Case c, ActivationBatch in, ActivationBatch out, String ctx) {
        int cols = c.cols();
        double steps = cols / 16 + cols % 32 + 8;
        for (int t = 0; t < in.tokens(); t++) {
            for (int r = 0; r < c.rows(); r++) {
                double[] w = c.w()[r];
                double viaBf16 = 0, bf16Mag = 0, exact = 0, productMag = 0, subnormal = 0;
                for (int i = 0; i < cols; i++) {
                    double x = in.get(t, i);
                    double xb = bf16(in.get(t, i));
                    viaBf16 += w[i] * xb;
                    bf16Mag += Math.abs(w[i] * xb);
                    exact += w[i] * x;
                    productMag += Math.abs(w[i] * x);
                    subnormal += Math.abs(w[i]) < 0x1p-126 ? Math.abs(w[i] * xb) : 0;
                }
                double got = out.get(t, r);
                // plus what vdpbf16ps reads as zero or flushes: subnormal weights (|w| < 2^-126) and products
                double sums = steps * 0x1p-24 * bf16Mag + subnormal + (cols + 8) * 0x1p-126;
                String where = ctx + ", token " + t + " row " + r + ": got " + got;
                assertTrue(Math.abs(got - viaBf16) <= sums, where + ", float64 of the bf16 activations " + viaBf16 + ", bound " + sums);
                double bound = sums + 0x1p-8 * productMag;
                assertTrue(Math.abs(got - exact) <= bound, where + ", float64 " + exact + ", bound " + bound);
            }
        }
    }
}
