package io.flexq.plugin.cpu;

import io.flexq.plugin.quant.ActivationMode;
import io.flexq.plugin.quant.ActivationQuantizer;
import io.flexq.plugin.quant.FlexqWeights;
import io.flexq.runtime.spi.ActivationBatch;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.util.Random;
import java.util.concurrent.ForkJoinPool;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * FlexQ's row-range matmul: W6A6 / W6A8 rows are bit-identical to the scalar integer reference whatever
 * the range (ranges cut through row blocks and tasks on purpose); W6A16 rows equal the whole-matrix
 * call's bits and the float64 W6A16 reference within rounding; rows outside the range are untouched.
 */
class RowRangeTest {

    static final float SENTINEL = -777.25f;

    @Test
    void everyModeGivesTheReferenceRowsForRangesThatCutBlocks() {
        long seed = 0x9_0913L;
        Random rnd = new Random(seed);
        int rows = 3 * 2 * Int6Kernels.RB + 5, cols = 300;
        FlexqWeights w = TestData.weights(rnd, rows, cols);
        int[][] ranges = {{0, rows}, {0, 1}, {1, 2 * Int6Kernels.RB + 3}, {Int6Kernels.RB - 1, Int6Kernels.RB + 1}, {rows - 2, rows}, {9, 9}};
        try (Arena arena = Arena.ofConfined()) {
            for (ActivationMode mode : ActivationMode.values()) {
                FlexqCpuMatrix m = new FlexqCpuMatrix("blk.0.ffn_up.weight", w, mode, new ForkJoinPool(2));
                for (int tokens : new int[]{1, 3, 9}) {
                    float[] x = TestData.activations(rnd, tokens, cols);
                    float[] ref = mode == ActivationMode.A16
                            ? IntegerReference.matmulW6A16(w, x, tokens)
                            : IntegerReference.matmul(w, ActivationQuantizer.quantize(x, tokens, cols, mode));
                    ActivationBatch whole = ActivationBatch.allocate(arena, tokens, rows);
                    m.matmul(FastPathTest.batch(arena, x, tokens, cols), whole);
                    for (int[] range : ranges) {
                        ActivationBatch out = ActivationBatch.allocate(arena, tokens, rows);
                        for (int t = 0; t < tokens; t++) {
                            for (int r = 0; r < rows; r++) {
                                out.set(t, r, SENTINEL);
                            }
                        }
                        m.matmul(FastPathTest.batch(arena, x, tokens, cols), out, range[0], range[1]);
                        for (int t = 0; t < tokens; t++) {
                            for (int r = 0; r < rows; r++) {
                                String where = "seed " + seed + ", W6" + mode + ", " + tokens + " tokens, range [" + range[0] + ", "
                                        + range[1] + "), t " + t + ", r " + r;
                                float got = out.get(t, r);
                                if (r < range[0] || r >= range[1]) {
                                    assertEquals(SENTINEL, got, where + ": written outside the range");
                                } else if (mode == ActivationMode.A16) {
                                    assertEquals(Float.floatToRawIntBits(whole.get(t, r)), Float.floatToRawIntBits(got), where);
                                    assertEquals(ref[t * rows + r], got, 1e-5 * (1 + Math.abs(ref[t * rows + r])), where);
                                } else {
                                    assertEquals(Float.floatToRawIntBits(ref[t * rows + r]), Float.floatToRawIntBits(got), where);
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    @Test
    void aRangePastTheLastRowIsRefused() {
        FlexqWeights w = TestData.weights(new Random(3), 4, 128);
        FlexqCpuMatrix m = new FlexqCpuMatrix("blk.1.attn_k.weight", w, ActivationMode.A8, new ForkJoinPool(1));
        try (Arena arena = Arena.ofConfined()) {
            var e = assertThrows(IndexOutOfBoundsException.class,
                    () -> m.matmul(ActivationBatch.allocate(arena, 1, 128), ActivationBatch.allocate(arena, 1, 4), 2, 5));
            assertTrue(e.getMessage().contains("blk.1.attn_k.weight") && e.getMessage().contains("[2, 5)"), e.getMessage());
        }
    }
}
