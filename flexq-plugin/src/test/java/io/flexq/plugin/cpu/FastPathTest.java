package io.flexq.plugin.cpu;

import io.flexq.plugin.quant.ActivationMode;
import io.flexq.plugin.quant.ActivationQuantizer;
import io.flexq.plugin.quant.FlexqWeights;
import io.flexq.plugin.quant.QuantizedActivations;
import io.flexq.runtime.spi.ActivationBatch;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.util.Arrays;
import java.util.Random;
import java.util.concurrent.ForkJoinPool;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The Vector API kernels against {@link IntegerReference} (bit for bit) and float64 (W6A16). */
class FastPathTest {

    private static final ForkJoinPool POOL = new ForkJoinPool(3);

    @AfterAll
    static void shutdown() {
        POOL.shutdown();
    }

    static ActivationBatch batch(Arena arena, float[] x, int tokens, int cols) {
        ActivationBatch b = ActivationBatch.allocate(arena, tokens, cols);
        for (int t = 0; t < tokens; t++) {
            b.setRow(t, x, t * cols);
        }
        return b;
    }

    static float[] run(FlexqCpuMatrix m, ActivationBatch in) {
        try (Arena arena = Arena.ofConfined()) {
            ActivationBatch out = ActivationBatch.allocate(arena, in.tokens(), m.rows());
            m.matmul(in, out);
            float[] y = new float[in.tokens() * m.rows()];
            for (int t = 0; t < in.tokens(); t++) {
                out.getRow(t, y, t * m.rows());
            }
            return y;
        }
    }

    @Test
    void partialsAndOutputsEqualTheReferenceOnRandomShapes() {
        long seed = 31L;
        Random rnd = new Random(seed);
        int[] colsChoices = {1, 100, 128, 129, 200, 384, 1000};
        int[] tokenChoices = {1, 2, 3, 4, 5, 16, 33, 64};
        int[] rowChoices = {1, 7, 64, 130};
        for (int trial = 0; trial < 24; trial++) {
            int cols = colsChoices[rnd.nextInt(colsChoices.length)];
            int tokens = tokenChoices[trial % tokenChoices.length];
            int rows = rowChoices[rnd.nextInt(rowChoices.length)];
            ActivationMode mode = trial % 2 == 0 ? ActivationMode.A8 : ActivationMode.A6;
            String ctx = "seed " + seed + ", trial " + trial + ": " + tokens + " tokens x " + rows + " rows x " + cols + " cols, " + mode;
            FlexqWeights w = TestData.weights(rnd, rows, cols);
            float[] x = TestData.activations(rnd, tokens, cols);
            QuantizedActivations a = ActivationQuantizer.quantize(x, tokens, cols, mode);
            FlexqCpuMatrix m = new FlexqCpuMatrix("w", w, mode, POOL);
            try (Arena arena = Arena.ofConfined()) {
                ActivationBatch in = batch(arena, x, tokens, cols);
                assertArrayEquals(IntegerReference.partials(w, a), m.partials(in), ctx);
                float[] want = IntegerReference.matmul(w, a);
                float[] got = run(m, in);
                for (int i = 0; i < want.length; i++) {
                    assertEquals(Float.floatToRawIntBits(want[i]), Float.floatToRawIntBits(got[i]), ctx + ", output " + i);
                }
            }
        }
    }

    /** Every product at its largest magnitude (-32 * -128 = 4096): the 16-bit lane sums are at their bound. */
    @Test
    void extremeCodesStayExact() {
        int rows = 3, cols = 256, tokens = 2;
        byte[] codes = new byte[rows * cols];
        Arrays.fill(codes, (byte) -32);
        Arrays.fill(codes, cols, 2 * cols, (byte) 31);
        for (int k = 0; k < cols; k++) {
            codes[2 * cols + k] = (byte) (k % 2 == 0 ? -32 : 31);
        }
        short[] scales = new short[rows * 2];
        Arrays.fill(scales, Float.floatToFloat16(1f));
        FlexqWeights w = FlexqWeights.of("extreme", rows, cols, codes, scales);
        // amax below 127 / FLT_MAX: inv overflows, negative elements clamp to -128, positive to 127
        float[] x = new float[tokens * cols];
        Arrays.fill(x, -1e-38f);
        for (int k = cols; k < 2 * cols; k++) {
            x[k] = k % 2 == 0 ? -1e-38f : 1e-38f;
        }
        QuantizedActivations a = ActivationQuantizer.quantize(x, tokens, cols, ActivationMode.A8);
        assertEquals(-128, a.code(0, 0));
        int[] want = IntegerReference.partials(w, a);
        assertEquals(128 * 32 * 128, want[0], "P = 128 * (-32) * (-128)");
        FlexqCpuMatrix m = new FlexqCpuMatrix("extreme", w, ActivationMode.A8, POOL);
        try (Arena arena = Arena.ofConfined()) {
            assertArrayEquals(want, m.partials(batch(arena, x, tokens, cols)));
        }
    }

    /** The same check after enough calls for C2 to compile the Vector API loops into vector instructions. */
    @Test
    void compiledKernelsStayExact() {
        long seed = 34L;
        Random rnd = new Random(seed);
        int rows = 64, cols = 1000;
        FlexqWeights w = TestData.weights(rnd, rows, cols);
        // 3 tokens: the decode path (codes widened in registers); 6: panels, a 4-token tile and 2 leftovers
        for (int tokens : new int[] {3, 6}) {
            float[] x = TestData.activations(rnd, tokens, cols);
            for (ActivationMode mode : new ActivationMode[] {ActivationMode.A8, ActivationMode.A6}) {
                QuantizedActivations a = ActivationQuantizer.quantize(x, tokens, cols, mode);
                int[] want = IntegerReference.partials(w, a);
                float[] wantY = IntegerReference.matmul(w, a);
                FlexqCpuMatrix m = new FlexqCpuMatrix("w", w, mode, POOL);
                try (Arena arena = Arena.ofConfined()) {
                    ActivationBatch in = batch(arena, x, tokens, cols);
                    for (int i = 0; i < 200; i++) {
                        int[] got = m.partials(in);
                        if (i % 100 == 99) {
                            String ctx = "seed " + seed + ", " + tokens + " tokens, " + mode + ", call " + i;
                            assertArrayEquals(want, got, ctx);
                            assertArrayEquals(wantY, run(m, in), ctx);
                        }
                    }
                }
            }
        }
    }

    @Test
    void resultsDoNotDependOnTheThreadCount() {
        long seed = 32L;
        Random rnd = new Random(seed);
        int tokens = 5, rows = 300, cols = 640;
        FlexqWeights w = TestData.weights(rnd, rows, cols);
        float[] x = TestData.activations(rnd, tokens, cols);
        ForkJoinPool one = new ForkJoinPool(1);
        try (Arena arena = Arena.ofConfined()) {
            for (ActivationMode mode : ActivationMode.values()) {
                float[] a = run(new FlexqCpuMatrix("w", w, mode, one), batch(arena, x, tokens, cols));
                float[] b = run(new FlexqCpuMatrix("w", w, mode, POOL), batch(arena, x, tokens, cols));
                assertArrayEquals(a, b, "seed " + seed + ", " + mode);
            }
        } finally {
            one.shutdown();
        }
    }

    /** W6A16: any summation order of fp32 products, so within (cols + 1) * 2^-24 * sum |w x| of float64. */
    @Test
    void w6a16MatchesFloat64WithinRounding() {
        long seed = 33L;
        Random rnd = new Random(seed);
        for (int[] shape : new int[][] {{1, 9, 100}, {4, 17, 256}, {7, 33, 1000}, {16, 5, 129}}) {
            int tokens = shape[0], rows = shape[1], cols = shape[2];
            FlexqWeights w = TestData.weights(rnd, rows, cols);
            float[] x = TestData.activations(rnd, tokens, cols);
            float[] y;
            try (Arena arena = Arena.ofConfined()) {
                y = run(new FlexqCpuMatrix("w", w, ActivationMode.A16, POOL), batch(arena, x, tokens, cols));
            }
            float[] row = new float[cols];
            for (int r = 0; r < rows; r++) {
                w.dequantizeRow(r, row, 0);
                for (int t = 0; t < tokens; t++) {
                    double exact = 0, mag = 0;
                    for (int k = 0; k < cols; k++) {
                        exact += (double) row[k] * x[t * cols + k];
                        mag += Math.abs((double) row[k] * x[t * cols + k]);
                    }
                    double bound = (cols + 1) * Math.scalb(1.0, -24) * mag;
                    assertTrue(Math.abs(y[t * rows + r] - exact) <= bound, "seed " + seed + ", shape " + Arrays.toString(shape)
                            + ", t " + t + ", r " + r + ": " + y[t * rows + r] + " vs " + exact);
                }
            }
        }
    }
}
