package io.flexq.runtime.cpu;

import io.flexq.runtime.spi.ActivationBatch;
import io.flexq.runtime.tensor.QuantTypes;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.util.Random;
import java.util.concurrent.ForkJoinPool;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Q8_0, Q4_0 and Q6_K prompts with 8-bit activations ({@link NativeQ8}) against float64, on random ragged shapes (rows across the
 * 16- and 32-row tiles, token counts across the 4-token tile, activations of mixed magnitude and all-zero blocks):
 * <ul>
 *   <li>the integer path: float64 of the weights times the activation codes this test computes itself (d = amax / 127
 *   in fp32, q = round-half-even(x * (1 / d)) clamped to +-127), within the fp32 epilogue's bound
 *   (blocks + 2) * 2^-24 * sum_j |d_w d_x I_j|: one wrong code or block moves a row by far more;</li>
 *   <li>the fp32 activations: float64 of the weights times x, within that bound plus the activation rounding,
 *   sum_c |w_c| * d_x(c) * (1/2 + 2^-16);</li>
 *   <li>the split: pool chunks and single row ranges give the same bits.</li>
 * </ul>
 */
class NativeQ8GemmTest {

    @Test
    void int8PromptsMatchFloat64WithinTheActivationRoundingAndAreSplitIndependent() {
        Assumptions.assumeTrue(NativeQ8.available(), "no AVX-512 VNNI Q8_0 prompt kernel here");
        long seed = 1308L;
        Random rnd = new Random(seed);
        CpuBackend backend = new CpuBackend(new ForkJoinPool(3));
        try (Arena arena = Arena.ofShared()) {
            for (int trial = 0; trial < 24; trial++) {
                io.flexq.runtime.spi.TensorType type = trial % 3 == 0 ? QuantTypes.Q8_0 : trial % 3 == 1 ? QuantTypes.Q4_0 : QuantTypes.Q6_K;
                int cols = type == QuantTypes.Q6_K ? 256 * (1 + rnd.nextInt(5)) : 32 * (1 + rnd.nextInt(40));
                int rows = 1 + rnd.nextInt(70);
                int tokens = NativeQ8.MIN_TOKENS + rnd.nextInt(37);
                KernelCheck.Case c = KernelCheck.Case.random(type, rows, cols, rnd);
                CpuMatrix m = backend.load("w", type, rows, cols, c.segment(arena, true));
                ActivationBatch in = KernelCheck.scaledBatch(arena, tokens, cols, rnd, true);
                ActivationBatch out = ActivationBatch.allocate(arena, tokens, rows);
                m.matmul(in, out);
                String ctx = "seed " + seed + ", " + type.name() + " " + rows + "x" + cols + ", " + tokens + " tokens";
                check(c, in, out, ctx);
                KernelCheck.assertRowRangesEqualWhole(m, in, out, arena, rnd, ctx);
            }
        }
    }

    @Test
    void aNonFiniteActivationGivesNaNForItsTokenOnly() {
        Assumptions.assumeTrue(NativeQ8.available(), "no AVX-512 VNNI Q8_0 prompt kernel here");
        Random rnd = new Random(7);
        CpuBackend backend = new CpuBackend(new ForkJoinPool(1));
        try (Arena arena = Arena.ofShared()) {
            KernelCheck.Case c = KernelCheck.Case.random(QuantTypes.Q8_0, 20, 64, rnd);
            CpuMatrix m = backend.load("w", QuantTypes.Q8_0, 20, 64, c.segment(arena, true));
            ActivationBatch in = KernelCheck.randomBatch(arena, 5, 64, rnd);
            in.set(2, 40, Float.NaN);
            in.set(3, 3, Float.POSITIVE_INFINITY);
            ActivationBatch out = ActivationBatch.allocate(arena, 5, 20);
            m.matmul(in, out);
            for (int r = 0; r < 20; r++) {
                assertTrue(Float.isNaN(out.get(2, r)) && Float.isNaN(out.get(3, r)), "row " + r + " of the tokens with NaN / inf");
                assertTrue(Float.isFinite(out.get(0, r)) && Float.isFinite(out.get(4, r)), "row " + r + " of a finite token");
            }
        }
    }

    /** Both float64 checks of the class comment, for every (token, row). */
    private static void check(KernelCheck.Case c, ActivationBatch in, ActivationBatch out, String ctx) {
        int cols = c.cols(), nb = cols / 32;
        for (int t = 0; t < in.tokens(); t++) {
            float[] d = new float[nb];
            int[] q = new int[cols];
            for (int j = 0; j < nb; j++) {
                float amax = 0;
                for (int i = 32 * j; i < 32 * j + 32; i++) {
                    amax = Math.max(amax, Math.abs(in.get(t, i)));
                }
                d[j] = amax / 127f;
                float id = amax == 0 ? 0 : 1f / d[j];
                for (int i = 32 * j; i < 32 * j + 32; i++) {
                    q[i] = (int) Math.max(-127, Math.min(127, Math.rint(in.get(t, i) * id)));
                }
            }
            for (int r = 0; r < c.rows(); r++) {
                double[] w = c.w()[r];
                double viaCodes = 0, codesMag = 0, exact = 0, productMag = 0, rounding = 0;
                for (int j = 0; j < nb; j++) {
                    double block = 0;
                    for (int i = 32 * j; i < 32 * j + 32; i++) {
                        block += w[i] * q[i];
                        exact += w[i] * in.get(t, i);
                        productMag += Math.abs(w[i] * in.get(t, i));
                        rounding += Math.abs(w[i]) * d[j] * (0.5 + 0x1p-16);
                    }
                    viaCodes += block * d[j];
                    codesMag += Math.abs(block * d[j]);
                }
                double got = out.get(t, r);
                double epilogue = (nb + 2) * 0x1p-24 * codesMag + 1e-38;
                String where = ctx + ", token " + t + " row " + r + ": got " + got;
                assertTrue(Math.abs(got - viaCodes) <= epilogue, where + ", float64 of the codes " + viaCodes + ", bound " + epilogue);
                double bound = epilogue + rounding + (nb + 2) * 0x1p-24 * productMag;
                assertTrue(Math.abs(got - exact) <= bound, where + ", float64 " + exact + ", bound " + bound);
            }
        }
    }
}
