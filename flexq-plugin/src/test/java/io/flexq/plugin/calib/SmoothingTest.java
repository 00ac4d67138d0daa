package io.flexq.plugin.calib;

import io.flexq.plugin.fq6.QuantizedModel;
import io.flexq.plugin.fq6.SyntheticLlama;
import io.flexq.runtime.gguf.GgufFile;
import io.flexq.runtime.model.ModelFile;
import io.flexq.runtime.spi.Backends;
import io.flexq.runtime.spi.TensorTypes;
import io.flexq.runtime.tensor.BuiltinTypes;
import io.flexq.runtime.tensor.FloatTypes;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Smoothing (SmoothQuant-style migration) changes the model's weights, never its function: checked with a float64
 * forward written for the tests ({@link Float64Llama}) on a random GQA model with planted activation outliers, and
 * against the collector's own statistics of the transformed model.
 */
class SmoothingTest {

    static final long SEED = 4242L;
    static final ClassLoader LOADER = SmoothingTest.class.getClassLoader();

    @TempDir
    Path dir;

    /** 4 query heads on 2 KV heads; norms random and a few channels 20-40x larger, so every fold has work to do. */
    private Path model() throws Exception {
        SyntheticLlama m = new SyntheticLlama(128, 256, 2, 4, 2, 200, SEED);
        Random rnd = new Random(SEED + 7);
        for (String name : m.weights.keySet()) {
            if (name.endsWith("_norm.weight")) {
                float[] g = m.weights.get(name);
                for (int i = 0; i < g.length; i++) {
                    g[i] = (float) (0.5 + rnd.nextDouble()) * (rnd.nextInt(16) == 0 ? 20 + rnd.nextInt(20) : 1);
                }
            }
        }
        for (int b = 0; b < 2; b++) {
            m.scaleRow("blk." + b + ".attn_v.weight", rnd.nextInt(64), 25f); // outliers at attn_output's input
            m.scaleRow("blk." + b + ".ffn_up.weight", rnd.nextInt(256), 25f); // and at ffn_down's
        }
        return m.write(dir.resolve("m.gguf"), FloatTypes.F32);
    }

    private static List<int[]> windows(int count, int len, long seed) {
        Random rnd = new Random(seed);
        List<int[]> out = new ArrayList<>();
        for (int w = 0; w < count; w++) {
            int[] t = new int[len];
            for (int i = 0; i < len; i++) {
                t[i] = rnd.nextInt(200);
            }
            out.add(t);
        }
        return out;
    }

    @Test
    void transformedModelComputesTheSameLogitsInFloat64() throws Exception {
        TensorTypes types = BuiltinTypes.registry(LOADER);
        try (ModelFile src = GgufFile.open(model(), types)) {
            HessianCollector c = HessianCollector.collect(src, Backends.discover(LOADER, s -> { }), windows(2, 24, SEED), s -> { }, d -> { });
            for (double alpha : new double[]{0.3, 0.5, 0.8}) {
                Smoothing.Result r = Smoothing.plan(src, key -> c.inputs().get(key).absMax(), alpha);
                // every one of the four folds moves something (else the comparison below would prove little)
                for (var e : r.inputScales().entrySet()) {
                    long moved = 0;
                    for (float s : e.getValue()) {
                        moved += s != 1f ? 1 : 0;
                    }
                    assertTrue(moved > 0, "alpha " + alpha + ": no factor on " + e.getKey());
                }
                QuantizedModel t = r.applyTo(src);
                int[] tokens = windows(1, 16, SEED + Math.round(alpha * 10)).getFirst();
                double[][] want = Float64Llama.logits(src, tokens);
                double[][] got = Float64Llama.logits(t, tokens);
                double scale = 0, diff = 0;
                for (int p = 0; p < want.length; p++) {
                    for (int v = 0; v < want[p].length; v++) {
                        scale = Math.max(scale, Math.abs(want[p][v]));
                        diff = Math.max(diff, Math.abs(want[p][v] - got[p][v]));
                    }
                }
                // power-of-two factors: every product is the original one, so equal up to float64 rounding at most
                assertTrue(diff <= 1e-12 * scale, "seed " + SEED + ", alpha " + alpha + ": logits differ by " + diff + " (scale " + scale + ")");
            }
        }
    }

    @Test
    void transformedInputsAreTheOriginalOnesDividedByTheFactors() throws Exception {
        TensorTypes types = BuiltinTypes.registry(LOADER);
        List<int[]> w = windows(2, 24, SEED + 1);
        try (ModelFile src = GgufFile.open(model(), types)) {
            Backends backends = Backends.discover(LOADER, s -> { });
            HessianCollector before = HessianCollector.collect(src, backends, w, s -> { }, d -> { });
            Smoothing.Result r = Smoothing.plan(src, key -> before.inputs().get(key).absMax(), 0.5);
            HessianCollector after = HessianCollector.collect(r.applyTo(src), backends, w, s -> { }, d -> { });
            for (String key : r.inputScales().keySet()) {
                float[] s = r.inputScales().get(key);
                float[] x0 = before.inputs().get(key).absMax(), x1 = after.inputs().get(key).absMax();
                for (int j = 0; j < s.length; j++) {
                    assertEquals(x0[j] / s[j], x1[j], 1e-5 * x0[j] / s[j], key + " column " + j);
                }
                double[] want = r.transformHessian(key, before.inputs().get(key).hessian());
                double[] got = after.inputs().get(key).hessian();
                for (int i = 0; i < want.length; i++) {
                    assertEquals(want[i], got[i], 1e-4 * (Math.abs(want[i]) + 1e-3), key + " Hessian entry " + i);
                }
                // the point of it: the largest channel comes closer to the typical one
                assertTrue(spread(x1) < spread(x0), key + ": spread " + spread(x0) + " -> " + spread(x1));
            }
        }
    }

    /** Largest over median channel maximum. */
    private static double spread(float[] x) {
        float[] s = x.clone();
        Arrays.sort(s);
        return s[s.length - 1] / s[s.length / 2];
    }

    @Test
    void factorsArePowersOfTwoAroundOneAndDeterministic() {
        Random rnd = new Random(SEED);
        float[] x = new float[300], w = new float[300];
        for (int j = 0; j < x.length; j++) {
            x[j] = (float) Math.exp(rnd.nextGaussian() * 3);
            w[j] = (float) Math.exp(rnd.nextGaussian());
        }
        x[5] = 0; // a dead channel keeps 1
        w[9] = 0;
        float[] s = Smoothing.factors(x, w, 0.5);
        assertArrayEquals(s, Smoothing.factors(x.clone(), w.clone(), 0.5));
        assertEquals(1f, s[5]);
        assertEquals(1f, s[9]);
        double logSum = 0;
        for (int j = 0; j < s.length; j++) {
            int e = Math.getExponent(s[j]);
            assertEquals(Math.scalb(1f, e), s[j], "a power of two");
            assertTrue(Math.abs(e) <= Smoothing.MAX_EXPONENT);
            if (x[j] > 0 && w[j] > 0) {
                // independent formula: log2 of sqrt(x) / sqrt(w), minus the mean, rounded
                double want = 0.5 * Math.log(x[j]) / Math.log(2) - 0.5 * Math.log(w[j]) / Math.log(2);
                logSum += want;
            }
        }
        double mean = logSum / 298;
        for (int j = 0; j < s.length; j++) {
            if (x[j] > 0 && w[j] > 0) {
                double want = 0.5 * Math.log(x[j] / w[j]) / Math.log(2) - mean;
                assertTrue(Math.abs(Math.getExponent(s[j]) - want) <= 0.5 + 1e-9, "column " + j + ": 2^" + Math.getExponent(s[j]) + " for " + want);
            }
        }
    }

    @Test
    void alphaOutsideZeroToOneIsRefusedNamingTheFlag() {
        for (double bad : new double[]{-0.1, 1.5, Double.NaN, Double.POSITIVE_INFINITY}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Smoothing.checkAlpha(bad, "--smooth"));
            assertTrue(e.getMessage().startsWith("--smooth "), e.getMessage());
        }
        assertEquals(0.5, Smoothing.checkAlpha(0.5, "--smooth"));
    }
}
