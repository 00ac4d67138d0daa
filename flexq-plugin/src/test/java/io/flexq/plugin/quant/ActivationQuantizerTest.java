package io.flexq.plugin.quant;

import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** Activation quantization (docs/FQ6.md section 3) against a re-derivation written here from the spec. */
class ActivationQuantizerTest {

    @Test
    void codesAndScalesFollowTheSpecOnRandomShapes() {
        long seed = 7L;
        Random rnd = new Random(seed);
        for (ActivationMode mode : new ActivationMode[] {ActivationMode.A6, ActivationMode.A8}) {
            for (int cols : new int[] {1, 5, 127, 128, 129, 300, 512}) {
                int tokens = 1 + rnd.nextInt(5);
                float[] x = new float[tokens * cols];
                for (int i = 0; i < x.length; i++) {
                    x[i] = (float) (rnd.nextGaussian() * Math.exp(rnd.nextGaussian() * 2));
                }
                if (cols > 128) {
                    java.util.Arrays.fill(x, 0, 128, 0f); // token 0, group 0 all zero
                }
                QuantizedActivations a = ActivationQuantizer.quantize(x, tokens, cols, mode);
                check(x, tokens, cols, mode, a, "seed " + seed + ", " + mode + ", cols " + cols);
            }
        }
    }

    /** Spec: amax; sa = amax / Q; inv = Q / amax; code = clamp(round(x * inv)) with BigDecimal HALF_UP rounding. */
    static void check(float[] x, int tokens, int cols, ActivationMode mode, QuantizedActivations a, String ctx) {
        int q = mode == ActivationMode.A6 ? 31 : 127;
        int groups = (cols + 127) / 128;
        assertEquals(groups * 128, a.paddedCols(), ctx);
        for (int t = 0; t < tokens; t++) {
            for (int g = 0; g < groups; g++) {
                float amax = 0;
                for (int k = g * 128; k < Math.min(cols, g * 128 + 128); k++) {
                    amax = Math.max(amax, Math.abs(x[t * cols + k]));
                }
                float sa = amax == 0 ? 0f : amax / q;
                assertEquals(sa, a.scale(t, g), ctx + ", t " + t + ", g " + g);
                float inv = q / amax;
                for (int k = g * 128; k < g * 128 + 128; k++) {
                    int want = k >= cols || amax == 0 ? 0 : RoundingTest.expected(x[t * cols + k] * inv, -(q + 1), q);
                    assertEquals(want, a.code(t, k), ctx + ", t " + t + ", k " + k + ", x " + (k < cols ? x[t * cols + k] : 0));
                }
            }
        }
    }

    @Test
    void exactlyRepresentableAmaxGivesExactCodesAndTies() {
        // amax = Q, so inv = 1 and codes are round(x): ties at .5 go away from zero, +-amax map to +-Q.
        float[] x = new float[128];
        x[0] = 127f;
        x[1] = -127f;
        x[2] = 2.5f;
        x[3] = -2.5f;
        x[4] = 0.5f;
        x[5] = -0.5f;
        x[6] = 126.5f;
        QuantizedActivations a = ActivationQuantizer.quantize(x, 1, 128, ActivationMode.A8);
        assertEquals(1f, a.scale(0, 0));
        int[] want = {127, -127, 3, -3, 1, -1, 127};
        for (int i = 0; i < want.length; i++) {
            assertEquals(want[i], a.code(0, i), "element " + i);
        }
        x[0] = 31f;
        x[1] = -31f;
        x[6] = 30.5f;
        QuantizedActivations a6 = ActivationQuantizer.quantize(x, 1, 128, ActivationMode.A6);
        int[] want6 = {31, -31, 3, -3, 1, -1, 31};
        for (int i = 0; i < want6.length; i++) {
            assertEquals(want6[i], a6.code(0, i), "A6 element " + i);
        }
    }

    @Test
    void zeroGroupsHaveZeroScaleAndCodes() {
        float[] x = new float[2 * 200];
        x[200 + 150] = 3f; // token 1, group 1 only
        QuantizedActivations a = ActivationQuantizer.quantize(x, 2, 200, ActivationMode.A6);
        assertEquals(0f, a.scale(0, 0));
        assertEquals(0f, a.scale(0, 1));
        assertEquals(0f, a.scale(1, 0));
        assertEquals(3f / 31, a.scale(1, 1));
        assertEquals(31, a.code(1, 150));
        for (int k = 0; k < 256; k++) {
            assertEquals(0, a.code(0, k));
            if (k != 150) {
                assertEquals(0, a.code(1, k));
            }
        }
    }

    @Test
    void tinyAmaxOverflowsInvAndClampsAsDocumented() {
        // amax < Q / FLT_MAX: inv = +inf; zeros stay 0 (0 * inf = NaN -> 0), others clamp to Q / -(Q + 1).
        float[] x = new float[128];
        x[0] = 1e-38f;
        x[1] = -1e-38f;
        x[2] = 0f;
        QuantizedActivations a = ActivationQuantizer.quantize(x, 1, 128, ActivationMode.A8);
        assertEquals(127, a.code(0, 0));
        assertEquals(-128, a.code(0, 1));
        assertEquals(0, a.code(0, 2));
        assertEquals(1e-38f / 127, a.scale(0, 0));
    }

    @Test
    void a16IsNotQuantizedAndBadShapesAreRefused() {
        assertThrows(IllegalArgumentException.class, () -> ActivationQuantizer.quantize(new float[4], 1, 4, ActivationMode.A16));
        assertThrows(IllegalArgumentException.class, () -> ActivationQuantizer.quantize(new float[4], 2, 4, ActivationMode.A8));
        assertEquals(ActivationMode.A6, ActivationMode.ofBits(6, "test"));
        assertEquals(ActivationMode.A16, ActivationMode.ofBits(16L, "test"));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ActivationMode.ofBits(7, "f.gguf: flexq.act_bits.x"));
        org.junit.jupiter.api.Assertions.assertTrue(e.getMessage().contains("flexq.act_bits.x"), e.getMessage());
    }
}
