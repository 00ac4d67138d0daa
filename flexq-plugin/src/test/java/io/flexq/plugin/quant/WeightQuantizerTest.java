package io.flexq.plugin.quant;

import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Weight quantization (docs/FQ6.md section 2), checked against re-derivations written here from the spec. */
class WeightQuantizerTest {

    static float[] gaussian(Random rnd, int n, double sigma) {
        float[] w = new float[n];
        for (int i = 0; i < n; i++) {
            w[i] = (float) (rnd.nextGaussian() * sigma);
        }
        return w;
    }

    /** Spec code: clamp(roundHalfAwayFromZero(w / sw), -32, 31), 0 when sw == 0 (rounding via BigDecimal). */
    static int specCode(float w, float sw) {
        return sw == 0 ? 0 : RoundingTest.expected(w / sw, -32, 31);
    }

    static float specScale(float alpha, float absmax) {
        return Float.float16ToFloat(Float.floatToFloat16((alpha * absmax) / 31f));
    }

    @Test
    void rtnCodesAndScalesFollowTheSpec() {
        long seed = 11L;
        Random rnd = new Random(seed);
        for (int cols : new int[] {1, 100, 128, 200, 384}) {
            int rows = 5;
            float[] w = gaussian(rnd, rows * cols, 0.02);
            FlexqWeights q = WeightQuantizer.rtn().quantize("w", w, rows, cols).weights();
            for (int r = 0; r < rows; r++) {
                for (int g = 0; g < q.groups(); g++) {
                    float absmax = 0;
                    for (int k = g * 128; k < Math.min(cols, g * 128 + 128); k++) {
                        absmax = Math.max(absmax, Math.abs(w[r * cols + k]));
                    }
                    float sw = specScale(1f, absmax);
                    assertEquals(sw, q.scale(r, g), "seed " + seed + ", cols " + cols + ", r " + r + ", g " + g);
                    for (int k = g * 128; k < g * 128 + 128; k++) {
                        int want = k < cols ? specCode(w[r * cols + k], sw) : 0;
                        assertEquals(want, q.code(r, k), "seed " + seed + ", cols " + cols + ", r " + r + ", k " + k);
                    }
                }
            }
        }
    }

    @Test
    void clippingIsNeverWorseThanRtnOnAnyGroupAndHelpsOnGaussians() {
        long seed = 12L;
        Random rnd = new Random(seed);
        int rows = 16, cols = 640;
        float[] w = gaussian(rnd, rows * cols, 0.05);
        w[3 * cols + 5] = 0.9f; // an outlier
        WeightQuantization clip = WeightQuantizer.clipping().quantize("w", w, rows, cols);
        FlexqWeights q = clip.weights();
        double sseRtn = 0, sseClip = 0, ssw = 0;
        for (int r = 0; r < rows; r++) {
            for (int g = 0; g < q.groups(); g++) {
                float absmax = 0;
                for (int k = g * 128; k < g * 128 + 128; k++) {
                    absmax = Math.max(absmax, Math.abs(w[r * cols + k]));
                }
                float swRtn = specScale(1f, absmax);
                double eRtn = 0, eClip = 0;
                for (int k = g * 128; k < g * 128 + 128; k++) {
                    double v = w[r * cols + k];
                    eRtn += Math.pow(v - specCode(w[r * cols + k], swRtn) * (double) swRtn, 2);
                    eClip += Math.pow(v - q.code(r, k) * (double) q.scale(r, g), 2);
                    ssw += v * v;
                    assertEquals(specCode(w[r * cols + k], q.scale(r, g)), q.code(r, k), "codes follow the chosen scale");
                }
                assertTrue(eClip <= eRtn, "seed " + seed + ", r " + r + ", g " + g + ": clipped " + eClip + " > RTN " + eRtn);
                assertTrue(q.scale(r, g) <= swRtn, "clipping never enlarges the scale");
                sseRtn += eRtn;
                sseClip += eClip;
            }
        }
        assertTrue(sseClip < sseRtn, "clipping should help on Gaussian groups: " + sseClip + " vs " + sseRtn);
        assertTrue(clip.clippedGroups() > 0);
        long n = (long) rows * cols;
        assertEquals(sseRtn / n, clip.rtnError().mse(), 1e-12 * sseRtn / n);
        assertEquals(sseClip / n, clip.error().mse(), 1e-12 * sseClip / n);
        assertEquals(Math.sqrt(sseClip / ssw), clip.error().relativeFrobenius(), 1e-9);
        assertEquals(Math.sqrt(sseRtn / ssw), clip.rtnError().relativeFrobenius(), 1e-9);
        assertEquals(n, clip.error().count());
        // RTN-only quantization reports the same RTN error and no clipped groups
        WeightQuantization rtn = WeightQuantizer.rtn().quantize("w", w, rows, cols);
        assertEquals(clip.rtnError().sumSquaredError(), rtn.error().sumSquaredError(), 1e-15);
        assertEquals(0, rtn.clippedGroups());
    }

    @Test
    void defaultGridIsOneDownToPointEightInHundredths() {
        float[] a = WeightQuantizer.clipping().alphas();
        assertEquals(21, a.length);
        for (int i = 0; i < a.length; i++) {
            assertEquals((100 - i) / 100f, a[i]);
        }
        assertThrows(IllegalArgumentException.class, () -> new WeightQuantizer(new float[] {0.9f}));
    }

    @Test
    void zeroGroupsGetZeroScaleAndTheLargestWeightMapsTo31() {
        float[] w = new float[2 * 256];
        for (int k = 128; k < 256; k++) {
            w[k] = (k - 192) / 64f; // row 0, group 1: from -1 to 0.984
        }
        FlexqWeights q = WeightQuantizer.rtn().quantize("w", w, 2, 256).weights();
        assertEquals(0f, q.scale(0, 0));
        assertEquals(0f, q.scale(1, 1));
        for (int k = 0; k < 128; k++) {
            assertEquals(0, q.code(0, k));
        }
        assertEquals(-31, q.code(0, 128), "w = -absmax maps to -31, never -32, under RTN");
    }

    @Test
    void badWeightsAreRefusedWithRowAndColumn() {
        float[] w = new float[3 * 10];
        w[2 * 10 + 7] = Float.NaN;
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> WeightQuantizer.clipping().quantize("blk.0.attn_q.weight", w, 3, 10));
        assertTrue(e.getMessage().contains("blk.0.attn_q.weight") && e.getMessage().contains("row 2") && e.getMessage().contains("column 7"), e.getMessage());
        float[] big = new float[10];
        big[3] = 3e6f;
        e = assertThrows(IllegalArgumentException.class, () -> WeightQuantizer.rtn().quantize("wbig", big, 1, 10));
        assertTrue(e.getMessage().contains("fp16"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> WeightQuantizer.rtn().quantize("w", new float[5], 2, 3));
    }
}
