package io.flexq.samples.subscale;

import io.flexq.plugin.quant.Gptq;
import io.flexq.plugin.quant.WeightQuantizer;
import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * GPTQ in the sub-scale layouts: on a correlated random input it lowers the layer's output error
 * {@code sum_t ||x_t (W - Q)^T||^2} (computed here in float64 from the inputs, not from the Hessian the quantizer
 * sees) below round-to-nearest in the same layout; codes and stored sub-scales stay in range; for the plain
 * {@code g128} layout it gives the production GPTQ's bytes; two runs give identical bytes.
 */
class SubScaleGptqTest {

    private static final long SEED = 20261207L;
    private static final int ROWS = 12, COLS = 384, TOKENS = 600;

    /** Tokens x COLS inputs with strongly correlated columns (a random mixing of fewer factors, plus noise). */
    private static float[] inputs(Random rnd) {
        int factors = 48;
        double[] mix = new double[factors * COLS];
        for (int i = 0; i < mix.length; i++) {
            mix[i] = rnd.nextGaussian();
        }
        float[] x = new float[TOKENS * COLS];
        double[] z = new double[factors];
        for (int t = 0; t < TOKENS; t++) {
            for (int f = 0; f < factors; f++) {
                z[f] = rnd.nextGaussian();
            }
            for (int k = 0; k < COLS; k++) {
                double v = 0.1 * rnd.nextGaussian();
                for (int f = 0; f < factors; f++) {
                    v += z[f] * mix[f * COLS + k];
                }
                x[t * COLS + k] = (float) v;
            }
        }
        return x;
    }

    private static double[] hessian(float[] x) {
        double[] h = new double[COLS * COLS];
        for (int t = 0; t < TOKENS; t++) {
            for (int i = 0; i < COLS; i++) {
                double xi = x[t * COLS + i];
                for (int j = 0; j < COLS; j++) {
                    h[i * COLS + j] += xi * x[t * COLS + j];
                }
            }
        }
        for (int i = 0; i < h.length; i++) {
            h[i] *= 2.0 / TOKENS;
        }
        return h;
    }

    private static float[] weights(Random rnd) {
        float[] w = new float[ROWS * COLS];
        for (int i = 0; i < w.length; i++) {
            double v = rnd.nextGaussian() * 0.02 * (1 + (i / 16 % 7));
            w[i] = (float) (rnd.nextInt(97) == 0 ? v * 6 : v);
        }
        return w;
    }

    /** {@code sum_t sum_r (x_t . (w_r - q_r))^2} in float64. */
    private static double outputError(float[] x, float[] w, float[] q) {
        double sse = 0;
        for (int t = 0; t < TOKENS; t++) {
            for (int r = 0; r < ROWS; r++) {
                double y = 0;
                for (int k = 0; k < COLS; k++) {
                    y += (double) x[t * COLS + k] * ((double) w[r * COLS + k] - q[r * COLS + k]);
                }
                sse += y * y;
            }
        }
        return sse;
    }

    @Test
    void gptqBeatsRoundToNearestOnOutputErrorAndKeepsCodesInRange() {
        Random rnd = new Random(SEED);
        float[] x = inputs(rnd);
        double[] h = hessian(x);
        float[] w = weights(rnd);
        for (String name : new String[] {"s16x4o16", "s32x4", "g128"}) {
            SubScaleLayout layout = SubScaleLayout.of(name);
            SubScaleWeights rtn = SubScaleQuantizer.quantize(name, w, ROWS, COLS, layout);
            SubScaleWeights gptq = SubScaleGptq.quantize(name, w, ROWS, COLS, layout, h, Gptq.DEFAULT_DAMPING);
            double eRtn = outputError(x, w, rtn.dequantize());
            double eGptq = outputError(x, w, gptq.dequantize());
            System.out.printf("seed %d, %s: output error RTN %.6g, GPTQ %.6g (ratio %.3f)%n", SEED, name, eRtn, eGptq, eGptq / eRtn);
            assertTrue(eGptq < 0.8 * eRtn, name + ": GPTQ output error " + eGptq + " not clearly below RTN's " + eRtn + " (seed " + SEED + ")");
            for (byte c : gptq.codes()) {
                assertTrue(c >= -32 && c <= 31, name + ": code " + c + " out of [-32, 31]");
            }
            for (byte s : gptq.subs()) {
                int stored = s - layout.subMin();
                assertTrue(stored >= 0 && stored < (1 << Math.max(layout.subBits(), 1)) && s <= layout.subMax(),
                        name + ": sub-scale " + s + " does not fit " + layout.subBits() + " bits from " + layout.subMin());
            }
            SubScaleWeights again = SubScaleGptq.quantize(name, w, ROWS, COLS, layout, h, Gptq.DEFAULT_DAMPING);
            assertArrayEquals(gptq.codes(), again.codes(), name + ": codes differ between two runs");
            assertArrayEquals(gptq.scales(), again.scales(), name + ": scales differ between two runs");
            assertArrayEquals(gptq.subs(), again.subs(), name + ": sub-scales differ between two runs");
        }
    }

    @Test
    void withoutSubScalesItIsTheProductionGptq() {
        Random rnd = new Random(SEED + 1);
        float[] x = inputs(rnd);
        double[] h = hessian(x);
        float[] w = weights(rnd);
        SubScaleWeights ours = SubScaleGptq.quantize("g128", w, ROWS, COLS, SubScaleLayout.of("g128"), h, Gptq.DEFAULT_DAMPING);
        var prod = new Gptq(WeightQuantizer.clipping(), Gptq.DEFAULT_DAMPING).quantize("g128", w, ROWS, COLS, h).weights();
        float[] row = new float[COLS];
        float[] deq = ours.dequantize();
        for (int r = 0; r < ROWS; r++) {
            prod.dequantizeRow(r, row, 0);
            for (int k = 0; k < COLS; k++) {
                assertEquals(row[k], deq[r * COLS + k], 0f, "row " + r + ", column " + k);
            }
        }
    }

    @Test
    void rejectsAHessianOfTheWrongSize() {
        float[] w = new float[2 * 128];
        var e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                () -> SubScaleGptq.quantize("blk.0.x", w, 2, 128, SubScaleLayout.of("s16x4o16"), new double[127 * 127], 0.01));
        assertTrue(e.getMessage().contains("blk.0.x") && e.getMessage().contains("128 x 128"), e.getMessage());
    }
}
