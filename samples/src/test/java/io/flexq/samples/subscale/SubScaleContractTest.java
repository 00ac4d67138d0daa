package io.flexq.samples.subscale;

import io.flexq.plugin.quant.ActivationMode;
import io.flexq.plugin.quant.ActivationQuantizer;
import io.flexq.plugin.quant.FlexqWeights;
import io.flexq.plugin.quant.QuantizedActivations;
import io.flexq.plugin.quant.WeightQuantizer;
import io.flexq.runtime.cpu.CpuBackend;
import io.flexq.runtime.cpu.PoolLease;
import io.flexq.runtime.spi.ActivationBatch;
import io.flexq.runtime.spi.WeightMatrix;
import io.flexq.runtime.spi.WeightSource;
import io.flexq.runtime.tensor.FloatTypes;
import io.flexq.runtime.tensor.Quantizers;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Sub-scales keep FQ6's integer contract: the group partial {@code P = sum_j s_j * sum_{k in chunk j} q_k * a_k} is an
 * exact int32 equal to a float64 dot of the dequantized weights with the activation codes (divided by the group's
 * fp16 scale), also at the extreme codes; the quantizer without sub-scales is FQ6's; sub-scales never lose to the plain
 * group scale; and the simulated A8 backend used for the quality tables matches the integer path.
 */
class SubScaleContractTest {

    private static final long SEED = 20261206L;
    private static final List<String> LAYOUTS = List.of("g128", "s32x4", "s16x4", "s32x3", "s16x3o8", "s32x4o8");

    /** Rows of heavy-tailed weights around 0.02 (fp16 scales stay normal), with an outlier now and then. */
    private static float[] weights(Random rnd, int rows, int cols) {
        float[] w = new float[rows * cols];
        for (int i = 0; i < w.length; i++) {
            double v = rnd.nextGaussian() * 0.02 * (1 + (i / 32 % 5));
            w[i] = (float) (rnd.nextInt(97) == 0 ? v * 6 : v);
        }
        return w;
    }

    @Test
    void partialIsExactInt32AndEqualsFloat64DotOfDequantizedWeights() {
        Random rnd = new Random(SEED);
        int rows = 7, cols = 384, tokens = 3;
        float[] x = new float[tokens * cols];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) (rnd.nextGaussian() * (i % 50 == 0 ? 20 : 1));
        }
        QuantizedActivations a = ActivationQuantizer.quantize(x, tokens, cols, ActivationMode.A8);
        for (String name : LAYOUTS) {
            SubScaleWeights w = SubScaleQuantizer.quantize(name, weights(rnd, rows, cols), rows, cols, SubScaleLayout.of(name));
            float[] d = w.dequantize();
            for (int t = 0; t < tokens; t++) {
                for (int r = 0; r < rows; r++) {
                    double yRef = 0, magnitude = 0;
                    for (int g = 0; g < w.groups(); g++) {
                        double dot = 0;
                        for (int k = g * 128; k < (g + 1) * 128; k++) {
                            dot += (double) d[r * cols + k] * a.code(t, k);
                        }
                        double s = Float.float16ToFloat(w.scales()[r * w.groups() + g]);
                        int p = SubScalePartials.partial(w, a, t, r, g);
                        assertEquals(dot, p * s, 0.0, name + " seed " + SEED + " t " + t + " r " + r + " g " + g);
                        yRef += dot * a.scale(t, g);
                        magnitude += Math.abs(dot * a.scale(t, g));
                    }
                    float y = SubScalePartials.output(w, a, t, r);
                    assertEquals(yRef, y, w.groups() * 0x1p-22 * magnitude + 1e-30, name + " output t " + t + " r " + r);
                }
            }
        }
    }

    @Test
    void extremeCodesStayExactAtTheBound() {
        for (SubScaleLayout l : List.of(SubScaleLayout.of("s32x4"), SubScaleLayout.of("s16x4o8"), new SubScaleLayout("s16x5", 128, 16, 5, 1))) {
            int cols = 256;
            byte[] codes = new byte[cols];
            byte[] acodes = new byte[cols];
            Arrays.fill(codes, (byte) -32);
            Arrays.fill(acodes, (byte) -128);
            for (int k = 128; k < cols; k++) {
                codes[k] = (byte) (k % 2 == 0 ? 31 : -32);
                acodes[k] = (byte) (k % 2 == 0 ? 127 : -128);
            }
            byte[] subs = new byte[cols / l.chunk()];
            Arrays.fill(subs, (byte) l.subMax());
            short one = Float.floatToFloat16(1f);
            SubScaleWeights w = new SubScaleWeights(l, 1, cols, codes, new short[] {one, one}, subs);
            QuantizedActivations a = ActivationQuantizer.fromCodes(ActivationMode.A8, 1, cols, acodes, new float[] {1f, 1f});
            // group 0: every product (-32) * (-128) = 4096 -> P = 128 * 4096 * subMax = 2^19 * subMax
            assertEquals((1L << 19) * l.subMax(), SubScalePartials.partial(w, a, 0, 0, 0), l.describe());
            // group 1: 64 * 31 * 127 + 64 * 4096, times subMax
            assertEquals((64L * 31 * 127 + 64L * 4096) * l.subMax(), SubScalePartials.partial(w, a, 0, 0, 1), l.describe());
            assertTrue((1L << 19) * l.subMax() <= 1L << 24, "(float) P exact for subMax <= 32");
            double ref = 0;
            float[] d = w.dequantize();
            for (int k = 0; k < cols; k++) {
                ref += (double) d[k] * acodes[k];
            }
            assertEquals(ref, SubScalePartials.output(w, a, 0, 0), 0.0, l.describe());
        }
    }

    @Test
    void withoutSubScalesItIsFq6sClippingSearch() {
        Random rnd = new Random(SEED + 1);
        int rows = 5, cols = 256;
        float[] w = weights(rnd, rows, cols);
        SubScaleWeights mine = SubScaleQuantizer.quantize("t", w, rows, cols, SubScaleLayout.of("g128"));
        FlexqWeights fq6 = WeightQuantizer.clipping().quantize("t", w, rows, cols).weights();
        assertArrayEquals(fq6.copyScalesFp16(), mine.scales());
        for (int r = 0; r < rows; r++) {
            for (int k = 0; k < cols; k++) {
                assertEquals(fq6.code(r, k), mine.codes()[r * cols + k], "r " + r + " k " + k);
            }
        }
    }

    @Test
    void subScalesNeverLoseToThePlainGroupScale() {
        Random rnd = new Random(SEED + 2);
        int rows = 16, cols = 512;
        float[] w = weights(rnd, rows, cols);
        double[] plain = groupErrors(SubScaleQuantizer.quantize("t", w, rows, cols, SubScaleLayout.of("g128")), w);
        for (String name : List.of("s32x4", "s16x4", "s32x3", "s16x3")) {
            SubScaleWeights q = SubScaleQuantizer.quantize("t", w, rows, cols, SubScaleLayout.of(name));
            double[] e = groupErrors(q, w);
            double sumPlain = 0, sum = 0;
            for (int i = 0; i < e.length; i++) {
                assertTrue(e[i] <= plain[i], name + " group " + i + ": " + e[i] + " > " + plain[i] + " (seed " + (SEED + 2) + ")");
                sumPlain += plain[i];
                sum += e[i];
            }
            assertTrue(sum < 0.9 * sumPlain, name + ": " + sum + " vs " + sumPlain);
            for (byte s : q.subs()) {
                assertTrue(s >= q.layout().subMin() && s <= q.layout().subMax(), name + ": sub-scale " + s);
            }
            for (byte c : q.codes()) {
                assertTrue(c >= -32 && c <= 31);
            }
        }
    }

    private static double[] groupErrors(SubScaleWeights q, float[] w) {
        float[] d = q.dequantize();
        double[] e = new double[w.length / 128];
        for (int i = 0; i < w.length; i++) {
            double x = w[i] - (double) d[i];
            e[i / 128] += x * x;
        }
        return e;
    }

    @Test
    void simulatedA8MatchesTheIntegerPath() {
        Random rnd = new Random(SEED + 3);
        int rows = 9, cols = 256, tokens = 4;
        SubScaleWeights q = SubScaleQuantizer.quantize("t", weights(rnd, rows, cols), rows, cols, SubScaleLayout.of("s16x4"));
        byte[] f32 = Quantizers.quantize(FloatTypes.F32, q.dequantize(), rows, cols);
        float[] x = new float[tokens * cols];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) rnd.nextGaussian();
        }
        QuantizedActivations a = ActivationQuantizer.quantize(x, tokens, cols, ActivationMode.A8);
        SimulatedA8 backend = new SimulatedA8(new CpuBackend(PoolLease.owned(1)));
        try (Arena arena = Arena.ofConfined();
             WeightMatrix m = backend.load(new WeightSource("t", SimulatedA8.TYPE, rows, cols, MemorySegment.ofArray(f32), Map.of()))) {
            ActivationBatch in = ActivationBatch.allocate(arena, tokens, cols);
            ActivationBatch out = ActivationBatch.allocate(arena, tokens, rows);
            in.setTokens(tokens);
            for (int t = 0; t < tokens; t++) {
                in.setRow(t, x, t * cols);
            }
            m.matmul(in, out);
            for (int t = 0; t < tokens; t++) {
                for (int r = 0; r < rows; r++) {
                    float exact = SubScalePartials.output(q, a, t, r);
                    assertEquals(exact, out.get(t, r), 1e-5 * (1 + Math.abs(exact)), "t " + t + " r " + r);
                }
            }
        }
    }
}
