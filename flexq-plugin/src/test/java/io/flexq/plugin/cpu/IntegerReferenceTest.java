package io.flexq.plugin.cpu;

import io.flexq.plugin.quant.ActivationMode;
import io.flexq.plugin.quant.ActivationQuantizer;
import io.flexq.plugin.quant.FlexqWeights;
import io.flexq.plugin.quant.QuantizedActivations;
import io.flexq.plugin.quant.WeightQuantizer;
import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The integer reference against float64 computations written here. */
class IntegerReferenceTest {

    /**
     * y_ref against sum_k (wcode * sw) * (acode * sa) in double, within the fp32 epilogue's error bound:
     * (float) P is exact, sw * sa and the product each round once (2^-24), and the running fp32 sum
     * rounds once per group, so |y - y64| <= (groups + 2) * 2^-24 * sum_g |P * sw * sa| (first order).
     */
    @Test
    void referenceMatchesFloat64WithinTheEpilogueBound() {
        long seed = 21L;
        Random rnd = new Random(seed);
        for (ActivationMode mode : new ActivationMode[] {ActivationMode.A6, ActivationMode.A8}) {
            for (int[] shape : new int[][] {{1, 7, 1}, {3, 9, 130}, {5, 16, 256}, {2, 4, 1000}, {17, 3, 384}}) {
                int tokens = shape[0], rows = shape[1], cols = shape[2];
                FlexqWeights w = TestData.weights(rnd, rows, cols);
                QuantizedActivations a = ActivationQuantizer.quantize(TestData.activations(rnd, tokens, cols), tokens, cols, mode);
                float[] y = IntegerReference.matmul(w, a);
                int[] p = IntegerReference.partials(w, a);
                for (int t = 0; t < tokens; t++) {
                    for (int r = 0; r < rows; r++) {
                        double y64 = 0, magnitude = 0;
                        for (int g = 0; g < w.groups(); g++) {
                            long pg = 0;
                            double dg = 0;
                            for (int k = g * 128; k < g * 128 + 128; k++) {
                                pg += (long) w.code(r, k) * a.code(t, k);
                                dg += ((double) w.code(r, k) * w.scale(r, g)) * ((double) a.code(t, k) * a.scale(t, g));
                            }
                            assertEquals(pg, p[(t * rows + r) * w.groups() + g], "partial, seed " + seed);
                            y64 += dg;
                            magnitude += Math.abs(dg);
                        }
                        double bound = (w.groups() + 2) * Math.scalb(1.0, -24) * magnitude * 1.01 + 1e-30;
                        assertTrue(Math.abs(y[t * rows + r] - y64) <= bound, "seed " + seed + ", " + mode + ", shape "
                                + java.util.Arrays.toString(shape) + ", t " + t + ", r " + r + ": " + y[t * rows + r] + " vs " + y64 + " (bound " + bound + ")");
                    }
                }
            }
        }
    }

    /**
     * Quantization plus reference against the unquantized float64 product: RTN weight error is at most
     * sw/2 (plus sw * 31 * 2^-11 when fp16 rounding pushed |w| / sw past 31), activation error at most
     * sa/2 (plus float rounding), so |y - W x| <= sum_k (|dw| |x| + |w| |dx| + |dw| |dx|).
     */
    @Test
    void quantizedProductIsCloseToTheFloatProduct() {
        long seed = 22L;
        Random rnd = new Random(seed);
        int tokens = 4, rows = 6, cols = 300;
        float[] wf = TestData.floatWeights(rnd, rows, cols);
        FlexqWeights w = WeightQuantizer.rtn().quantize("w", wf, rows, cols).weights();
        float[] x = TestData.activations(rnd, tokens, cols);
        for (ActivationMode mode : new ActivationMode[] {ActivationMode.A6, ActivationMode.A8}) {
            QuantizedActivations a = ActivationQuantizer.quantize(x, tokens, cols, mode);
            float[] y = IntegerReference.matmul(w, a);
            for (int t = 0; t < tokens; t++) {
                for (int r = 0; r < rows; r++) {
                    double exact = 0, bound = 1e-6;
                    for (int k = 0; k < cols; k++) {
                        double wk = wf[r * cols + k], xk = x[t * cols + k];
                        double dw = w.scale(r, k / 128) * (0.5 + 31 * Math.scalb(1.0, -11)) + 1e-12;
                        double dx = a.scale(t, k / 128) * 0.5 + 2.4e-7 * Math.abs(xk) + 1e-30;
                        exact += wk * xk;
                        bound += dw * Math.abs(xk) + Math.abs(wk) * dx + dw * dx;
                    }
                    double err = Math.abs(y[t * rows + r] - exact);
                    assertTrue(err <= bound, "seed " + seed + ", " + mode + ", t " + t + ", r " + r + ": |" + y[t * rows + r] + " - " + exact + "| > " + bound);
                }
            }
        }
    }

    /** W6A16 reference: sequential fp32, within cols * 2^-24 * sum |w x| of the float64 dot. */
    @Test
    void w6a16ReferenceMatchesFloat64() {
        long seed = 23L;
        Random rnd = new Random(seed);
        int tokens = 3, rows = 5, cols = 333;
        FlexqWeights w = TestData.weights(rnd, rows, cols);
        float[] x = TestData.activations(rnd, tokens, cols);
        float[] y = IntegerReference.matmulW6A16(w, x, tokens);
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
                assertTrue(Math.abs(y[t * rows + r] - exact) <= bound, "seed " + seed + ", t " + t + ", r " + r);
            }
        }
    }
}
