package io.flexq.runtime.tensor;

import io.flexq.runtime.spi.TensorType;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Quantizers produce bytes that the spec decoder reads back within each format's error bound. Every check
 * decodes with {@link SpecDecoder}, not with the production decoder.
 */
class QuantizersTest {

    static final long SEED = 0x5EED_0002L;

    /** Gaussian rows of varied magnitude; one block of zeros and one outlier, so edge blocks are covered. */
    static float[] weights(Random rnd, int rows, int cols) {
        float[] w = new float[rows * cols];
        for (int r = 0; r < rows; r++) {
            double scale = Math.pow(10, rnd.nextInt(7) - 4);
            for (int c = 0; c < cols; c++) {
                w[r * cols + c] = (float) (rnd.nextGaussian() * scale);
            }
        }
        Arrays.fill(w, 0, Math.min(cols, 256), 0f);
        w[w.length - 5] *= 40;
        return w;
    }

    static double[] decodeRow(TensorType t, byte[] bytes, int r, int cols) {
        int rb = SpecDecoder.rowBytes(t.id(), cols);
        return SpecDecoder.decode(t.id(), Arrays.copyOfRange(bytes, r * rb, (r + 1) * rb), cols);
    }

    @Test
    void q8_0ErrorIsAtMostHalfAStepAndScaleIsAbsmaxOver127() {
        Random rnd = new Random(SEED);
        int rows = 12, cols = 1024;
        float[] w = weights(rnd, rows, cols);
        byte[] q = Quantizers.quantize(QuantTypes.Q8_0, w, rows, cols);
        assertEquals(rows * cols / 32 * 34, q.length);
        for (int r = 0; r < rows; r++) {
            double[] y = decodeRow(QuantTypes.Q8_0, q, r, cols);
            for (int b = 0; b < cols / 32; b++) {
                double d = SpecDecoder.half(SpecDecoder.u16(q, r * cols / 32 * 34 + 34 * b));
                double amax = 0;
                for (int j = 0; j < 32; j++) {
                    amax = Math.max(amax, Math.abs(w[r * cols + 32 * b + j]));
                }
                // fp16 rounding: half an ulp (2^-11 relative) for normal scales, at most 1.5 subnormal steps (2^-24 each) below 6.1e-5
                assertTrue(Math.abs(d - amax / 127) <= amax / 127 * 0x1p-11 + 0x1p-23,
                        "row " + r + " block " + b + ": d " + d + " vs absmax/127 " + amax / 127 + " (seed " + SEED + ")");
                for (int j = 0; j < 32; j++) {
                    int i = 32 * b + j;
                    double err = Math.abs(w[r * cols + i] - y[i]);
                    if (err > d / 2 * (1 + 0x1p-20)) {
                        fail("Q8_0 row " + r + " element " + i + ": " + w[r * cols + i] + " -> " + y[i] + ", error " + err
                                + " > d/2 = " + d / 2 + " (seed " + SEED + ")");
                    }
                }
            }
        }
    }

    @Test
    void q4_0UsesCodeMinus8ForTheLargestMagnitudeAndHalfAStepElsewhere() {
        Random rnd = new Random(SEED);
        int rows = 12, cols = 512;
        float[] w = weights(rnd, rows, cols);
        byte[] q = Quantizers.quantize(QuantTypes.Q4_0, w, rows, cols);
        for (int r = 0; r < rows; r++) {
            double[] y = decodeRow(QuantTypes.Q4_0, q, r, cols);
            for (int b = 0; b < cols / 32; b++) {
                double d = SpecDecoder.half(SpecDecoder.u16(q, r * cols / 32 * 18 + 18 * b));
                double m = 0;
                for (int j = 0; j < 32; j++) {
                    double v = w[r * cols + 32 * b + j];
                    m = Math.abs(v) > Math.abs(m) ? v : m;
                }
                assertTrue(Math.abs(d + m / 8) <= Math.abs(m) / 8 * 0x1p-11 + 0x1p-23,
                        "row " + r + " block " + b + ": d " + d + " vs -m/8 " + (-m / 8) + " (seed " + SEED + ")");
                for (int j = 0; j < 32; j++) {
                    int i = 32 * b + j;
                    double x = w[r * cols + i];
                    double err = Math.abs(x - y[i]);
                    // codes span [-8, 7]: values beyond 7.5 steps on the side of +7 clamp (error up to one step)
                    double bound = d != 0 && x / d > 7.5 ? Math.abs(d) * 1.01 : Math.abs(d) / 2 * (1 + 0x1p-20);
                    if (err > bound) {
                        fail("Q4_0 row " + r + " element " + i + ": " + x + " -> " + y[i] + ", error " + err + " > " + bound + " (seed " + SEED + ")");
                    }
                }
            }
        }
    }

    /** Test-side plain round-to-nearest Q6_K (sub-scale absmax / 31, super-scale max / 127): the baseline a scale search must beat. */
    static double rtnQ6_KSquaredError(float[] x, int off) {
        double[] s = new double[16];
        double smax = 0;
        for (int j = 0; j < 16; j++) {
            for (int i = 0; i < 16; i++) {
                s[j] = Math.max(s[j], Math.abs(x[off + 16 * j + i]) / 31);
            }
            smax = Math.max(smax, s[j]);
        }
        double d = SpecDecoder.half(Float.floatToFloat16((float) (smax / 127)));
        double sse = 0;
        for (int j = 0; j < 16; j++) {
            long sc = d == 0 ? 0 : Math.min(127, Math.round(s[j] / d));
            double eff = d * sc;
            for (int i = 0; i < 16; i++) {
                double v = x[off + 16 * j + i];
                long q = eff == 0 ? 0 : Math.max(-32, Math.min(31, Math.round(v / eff)));
                sse += (v - eff * q) * (v - eff * q);
            }
        }
        return sse;
    }

    @Test
    void q6_KUnclampedErrorsAreWithinHalfAStepAndTheSearchBeatsRoundToNearest() {
        Random rnd = new Random(SEED);
        int rows = 16, cols = 1024;
        float[] w = weights(rnd, rows, cols);
        // heavy tails in half the rows (Student-t-like), where clipping an outlier can pay
        for (int r = 0; r < rows; r += 2) {
            for (int c = 0; c < cols; c++) {
                double g = rnd.nextGaussian();
                w[r * cols + c] = (float) (g / Math.sqrt(Math.abs(rnd.nextGaussian()) + 0.05) * 0.01);
            }
        }
        byte[] q = Quantizers.quantize(QuantTypes.Q6_K, w, rows, cols);
        assertEquals(rows * cols / 256 * 210, q.length);
        double sse = 0, sseRtn = 0, energy = 0;
        for (int r = 0; r < rows; r++) {
            double[] y = decodeRow(QuantTypes.Q6_K, q, r, cols);
            for (int b = 0; b < cols / 256; b++) {
                int base = r * (cols / 256) * 210 + 210 * b;
                double d = SpecDecoder.half(SpecDecoder.u16(q, base + 208));
                for (int i = 0; i < 256; i++) {
                    int e = 256 * b + i;
                    double x = w[r * cols + e];
                    double eff = d * q[base + 192 + i / 16];
                    double err = x - y[e];
                    sse += err * err;
                    energy += x * x;
                    double code = eff == 0 ? 0 : y[e] / eff;
                    boolean atLimit = Math.abs(code + 32) < 1e-6 || Math.abs(code - 31) < 1e-6;
                    if (!atLimit && Math.abs(err) > Math.abs(eff) / 2 * (1 + 0x1p-20) + 1e-30) {
                        fail("Q6_K row " + r + " element " + e + ": " + x + " -> " + y[e] + ", error " + err
                                + " > half step " + Math.abs(eff) / 2 + " (seed " + SEED + ")");
                    }
                }
                sseRtn += rtnQ6_KSquaredError(w, r * cols + 256 * b);
            }
        }
        System.out.printf("Q6_K relative RMSE %.5f, round-to-nearest %.5f, squared-error ratio %.3f (seed %d)%n",
                Math.sqrt(sse / energy), Math.sqrt(sseRtn / energy), sse / sseRtn, SEED);
        assertTrue(sse < 0.9 * sseRtn, "scale search squared error " + sse + " is not 10% below round-to-nearest " + sseRtn + " (seed " + SEED + ")");
        // 6-bit codes on 16-element groups: relative RMSE near 1.5%; 3% allows for the heavy-tailed rows
        assertTrue(Math.sqrt(sse / energy) < 0.03, "relative RMSE " + Math.sqrt(sse / energy));
    }

    @Test
    void q6_KZeroSuperBlockDecodesToZeros() {
        byte[] q = Quantizers.quantize(QuantTypes.Q6_K, new float[512], 1, 512);
        for (double v : SpecDecoder.q6_K(q, 512)) {
            assertEquals(0.0, v, 0.0);
        }
    }

    @Test
    void scaleSearchIsNeverWorseThanEitherRoundToNearestScale() {
        Random rnd = new Random(SEED);
        float[] x = new float[16];
        for (int trial = 0; trial < 2000; trial++) {
            double tail = trial % 2 == 0 ? 1 : 0.1;
            for (int i = 0; i < 16; i++) {
                x[i] = (float) (rnd.nextGaussian() / Math.sqrt(Math.abs(rnd.nextGaussian()) + tail));
            }
            float s = ScaleSearch.bestScale(x, 0, 16, -32, 31);
            float m = 0;
            for (float v : x) {
                m = Math.abs(v) > Math.abs(m) ? v : m;
            }
            double best = sse(x, s);
            double rtnPos = sse(x, m / 31f);
            double rtnNeg = sse(x, m / -32f);
            assertTrue(best <= Math.min(rtnPos, rtnNeg) * (1 + 1e-6),
                    "trial " + trial + ": search " + best + " vs m/31 " + rtnPos + ", m/-32 " + rtnNeg + " (seed " + SEED + ")");
        }
    }

    private static double sse(float[] x, float s) {
        double e = 0;
        for (float v : x) {
            long q = Math.max(-32, Math.min(31, Math.round(v / (double) s)));
            e += (v - s * (double) q) * (v - s * (double) q);
        }
        return e;
    }

    /** Values around every interesting point of a 16-bit float format: ties, overflow, subnormals, specials. */
    static float[] probes(Random rnd, boolean half) {
        float[] p = new float[20000];
        for (int i = 0; i < p.length; i++) {
            p[i] = switch (i % 5) {
                case 0 -> (float) (rnd.nextGaussian() * Math.pow(2, rnd.nextInt(40) - 20));
                case 1 -> Float.intBitsToFloat(rnd.nextInt());
                case 2 -> { // exact ties between two neighbours: mantissa bits ending in 1 followed by zeros
                    int keep = half ? 10 : 7;
                    int e = half ? 127 + rnd.nextInt(30) - 14 : 1 + rnd.nextInt(253);
                    int m = rnd.nextInt(1 << keep) << (23 - keep) | 1 << (22 - keep);
                    yield Float.intBitsToFloat((rnd.nextBoolean() ? 1 << 31 : 0) | e << 23 | m);
                }
                case 3 -> half ? (float) ((rnd.nextDouble() - 0.5) * 140000) : (float) (rnd.nextGaussian() * 1e-39);
                default -> half ? (float) (rnd.nextGaussian() * 1e-6) : (rnd.nextBoolean() ? 3.3e38f : -3.4e38f) * (float) (1 + rnd.nextDouble() * 0.01);
            };
        }
        p[0] = Float.NaN;
        p[1] = Float.POSITIVE_INFINITY;
        p[2] = Float.NEGATIVE_INFINITY;
        p[3] = -0f;
        p[4] = 65520f;
        p[5] = 65519.99f;
        return p;
    }

    @Test
    void f16AndBf16RoundToNearestEven() {
        for (boolean half : new boolean[]{true, false}) {
            TensorType t = half ? FloatTypes.F16 : FloatTypes.BF16;
            Random rnd = new Random(SEED);
            float[] x = probes(rnd, half);
            byte[] q = Quantizers.quantize(t, x, 1, x.length);
            for (int i = 0; i < x.length; i++) {
                int code = SpecDecoder.u16(q, 2 * i);
                double got = half ? SpecDecoder.half(code) : SpecDecoder.bf16(code);
                String what = t.name() + " of " + x[i] + " (bits " + Integer.toHexString(Float.floatToRawIntBits(x[i])) + ") = "
                        + Integer.toHexString(code) + " (seed " + SEED + ")";
                if (Float.isNaN(x[i])) {
                    assertTrue(Double.isNaN(got), what);
                    continue;
                }
                assertEquals(Math.signum(x[i]) < 0 || Float.floatToRawIntBits(x[i]) < 0, code >> 15 == 1, what);
                int mag = code & 0x7FFF;
                int infMag = half ? 0x7C00 : 0x7F80;
                double maxFinite = half ? SpecDecoder.half(infMag - 1) : SpecDecoder.bf16(infMag - 1);
                double ulpAtMax = maxFinite - (half ? SpecDecoder.half(infMag - 2) : SpecDecoder.bf16(infMag - 2));
                if (Math.abs(x[i]) >= maxFinite + ulpAtMax / 2) {
                    assertEquals(infMag, mag, "overflow must round to infinity: " + what);
                    continue;
                }
                assertTrue(mag < infMag, "finite value became infinite: " + what);
                double err = Math.abs(Math.abs((double) x[i]) - Math.abs(got));
                for (int nb : new int[]{mag - 1, mag + 1}) {
                    if (nb < 0 || nb >= infMag) {
                        continue;
                    }
                    double v = half ? SpecDecoder.half(nb) : SpecDecoder.bf16(nb);
                    double nbErr = Math.abs(Math.abs((double) x[i]) - v);
                    assertTrue(err < nbErr || (err == nbErr && (mag & 1) == 0), "a neighbour " + Integer.toHexString(nb) + " is nearer: " + what);
                }
            }
        }
    }

    @Test
    void f32IsStoredAsLittleEndianBits() {
        float[] x = {1.5f, -0f, Float.MIN_VALUE, Float.NaN, 3e38f};
        byte[] q = Quantizers.quantize(FloatTypes.F32, x, 1, x.length);
        for (int i = 0; i < x.length; i++) {
            int bits = SpecDecoder.u16(q, 4 * i) | SpecDecoder.u16(q, 4 * i + 2) << 16;
            assertEquals(Float.floatToRawIntBits(x[i]), bits);
        }
    }

    @Test
    void parallelAndSegmentEncodingsEqualRowByRowEncoding() {
        Random rnd = new Random(SEED);
        int rows = 1024, cols = 1024; // 1 Mi elements: the parallel path
        float[] w = weights(rnd, rows, cols);
        byte[] all = Quantizers.quantize(QuantTypes.Q8_0, w, rows, cols);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment seg = arena.allocate(all.length);
            Quantizers.quantize(QuantTypes.Q8_0, w, rows, cols, seg);
            assertArrayEquals(all, seg.toArray(ValueLayout.JAVA_BYTE));
        }
        for (int r = 0; r < rows; r += 97) {
            byte[] one = Quantizers.quantize(QuantTypes.Q8_0, Arrays.copyOfRange(w, r * cols, (r + 1) * cols), 1, cols);
            assertArrayEquals(one, Arrays.copyOfRange(all, r * one.length, (r + 1) * one.length), "row " + r);
        }
    }

    @Test
    void badInputIsRefusedWithAClearMessage() {
        float[] x = new float[64];
        x[40] = Float.NaN;
        var e = assertThrows(IllegalArgumentException.class, () -> Quantizers.quantize(QuantTypes.Q8_0, x, 2, 32));
        assertTrue(e.getMessage().contains("row 1") && e.getMessage().contains("NaN"), e.getMessage());

        float[] big = new float[256];
        big[3] = 1e12f;
        for (TensorType t : new TensorType[]{QuantTypes.Q8_0, QuantTypes.Q4_0, QuantTypes.Q6_K}) {
            var o = assertThrows(IllegalArgumentException.class, () -> Quantizers.quantize(t, big, 1, 256), t.name());
            assertTrue(o.getMessage().contains("fp16"), o.getMessage());
        }
        assertThrows(IllegalArgumentException.class, () -> Quantizers.quantize(QuantTypes.Q8_0, new float[32], 2, 32));
        assertThrows(IllegalArgumentException.class,
                () -> Quantizers.quantize(QuantTypes.Q8_0, new float[64], 2, 32, MemorySegment.ofArray(new byte[67])));
    }
}
