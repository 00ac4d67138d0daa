package io.flexq.runtime.llama;

import io.flexq.runtime.cpu.SpinTeam;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The half-float KV cache ({@link KvCache.F16}) and the native attention over it, against a float64 attention
 * written here (a two-pass softmax with the log of the sum, head by head, no shared code with the kernels or with
 * {@link AttentionPathsTest}):
 * <ul>
 *   <li>on the stored halves themselves, the same bound as the float cache's path (2e-5 relative): the kernel
 *       widens halves exactly, so only float arithmetic separates it from float64;</li>
 *   <li>on the float keys and values before rounding, a bound derived from the rounding: every half is within
 *       u = 2^-11 relative of its float, so each score moves by at most d = scale * sum |q_i k_i| * u, every softmax
 *       weight by at most a factor e^(2 max d), and the output by (e^(2 max d) - 1 + u) * sum_j a_j |v_j| plus the
 *       float arithmetic.</li>
 * </ul>
 */
class HalfKvCacheTest {

    private static final double U = Math.scalb(1.0, -11);

    /** out[t][h * hs + i] = sum_j softmax_j(q.k_j * scale) v_j[i] in float64, and sum_j a_j |v_j[i]| in abs. */
    private static double[][] reference(LlamaConfig c, float[] q, int n, int pos, double[] k, double[] v, double[][] abs) {
        int hs = c.headSize(), group = c.heads() / c.kvHeads();
        double scale = 1 / Math.sqrt(hs);
        double[][] out = new double[n][c.qDim()];
        for (int t = 0; t < n; t++) {
            abs[t] = new double[c.qDim()];
            for (int h = 0; h < c.heads(); h++) {
                int g = h / group, len = pos + t + 1;
                double[] s = new double[len];
                double max = Double.NEGATIVE_INFINITY;
                for (int j = 0; j < len; j++) {
                    double dot = 0;
                    for (int i = 0; i < hs; i++) {
                        dot += q[t * c.qDim() + h * hs + i] * k[(j * c.kvHeads() + g) * hs + i];
                    }
                    s[j] = dot * scale;
                    max = Math.max(max, s[j]);
                }
                double sum = 0;
                for (int j = 0; j < len; j++) {
                    sum += Math.exp(s[j] - max);
                }
                double logSum = max + Math.log(sum);
                for (int j = 0; j < len; j++) {
                    double a = Math.exp(s[j] - logSum);
                    for (int i = 0; i < hs; i++) {
                        double x = v[(j * c.kvHeads() + g) * hs + i];
                        out[t][h * hs + i] += a * x;
                        abs[t][h * hs + i] += a * Math.abs(x);
                    }
                }
            }
        }
        return out;
    }

    /** The largest score change the rounding of the keys can cause, over every (token, head, position). */
    private static double scoreShift(LlamaConfig c, float[] q, int n, int pos, float[] k) {
        int hs = c.headSize(), group = c.heads() / c.kvHeads();
        double worst = 0;
        for (int t = 0; t < n; t++) {
            for (int h = 0; h < c.heads(); h++) {
                for (int j = 0; j <= pos + t; j++) {
                    double d = 0;
                    for (int i = 0; i < hs; i++) {
                        d += Math.abs((double) q[t * c.qDim() + h * hs + i] * k[(j * c.kvHeads() + h / group) * hs + i]);
                    }
                    worst = Math.max(worst, d * U / Math.sqrt(hs));
                }
            }
        }
        return worst;
    }

    @Test
    void attentionOverHalvesMatchesFloat64WithinTheRoundingBound() {
        Assumptions.assumeTrue(NativeLlamaCpu.get().runs(64), "native attention: " + NativeLlamaCpu.get().why());
        long seed = 1306L;
        Random rnd = new Random(seed);
        // heads, kv heads, head size, tokens, position: decode steps at ragged depths, prompts, GQA groups 1-8,
        // head sizes 16-288 (288: no register tile)
        int[][] shapes = {{8, 4, 64, 1, 513}, {32, 8, 128, 1, 77}, {4, 2, 64, 1, 0}, {6, 2, 32, 7, 40}, {2, 2, 128, 5, 17},
            {4, 1, 16, 33, 0}, {8, 1, 16, 3, 20}, {2, 1, 288, 2, 3}};
        try (SpinTeam team = new SpinTeam(3, 200_000)) {
            for (int[] sh : shapes) {
                int heads = sh[0], kvHeads = sh[1], hs = sh[2], n = sh[3], pos = sh[4];
                LlamaConfig c = new LlamaConfig(heads * hs, 4 * hs, 1, heads, kvHeads, hs, 32, 1024, hs, 10000.0, 1e-5f,
                        new RopeScaling.None());
                float[] q = random(rnd, n * c.qDim(), 1.5f);
                float[] k = random(rnd, (pos + n) * c.kvDim(), 1.5f);
                float[] v = random(rnd, (pos + n) * c.kvDim(), 1f);
                KvCache.F16 cache = new KvCache.F16(c, 2, pos + n);
                // written in two pieces, at layer 1, as a session does: the prompt's rows, then the new ones after
                // the rows grew (the first piece must survive the copy)
                cache.ensure(Math.max(1, pos));
                cache.write(1, k, v, 0, pos);
                cache.ensure(pos + n);
                cache.write(1, tail(k, pos * c.kvDim()), tail(v, pos * c.kvDim()), pos, n);
                float[] out = new float[n * c.qDim()];
                cache.attend(1, q, n, pos, out, team);

                double[] kh = new double[k.length], vh = new double[v.length], kf = new double[k.length], vf = new double[v.length];
                for (int i = 0; i < k.length; i++) {
                    kh[i] = Float.float16ToFloat(Float.floatToFloat16(k[i]));
                    vh[i] = Float.float16ToFloat(Float.floatToFloat16(v[i]));
                    kf[i] = k[i];
                    vf[i] = v[i];
                }
                double[][] absH = new double[n][], absF = new double[n][];
                double[][] onHalves = reference(c, q, n, pos, kh, vh, absH);
                double[][] onFloats = reference(c, q, n, pos, kf, vf, absF);
                double shift = scoreShift(c, q, n, pos, k);
                String ctx = "seed " + seed + ", heads " + heads + "/" + kvHeads + ", hs " + hs + ", " + n + " tokens at " + pos;
                // the second bound says something: the rounding moves no softmax weight by more than 10%
                assertTrue(Math.expm1(2 * shift) < 0.1, ctx + ": score shift bound " + shift);
                for (int t = 0; t < n; t++) {
                    for (int i = 0; i < c.qDim(); i++) {
                        float got = out[t * c.qDim() + i];
                        double e1 = Math.abs(got - onHalves[t][i]);
                        assertTrue(e1 <= 2e-5 * (1 + Math.abs(onHalves[t][i])),
                                ctx + ", token " + t + ", element " + i + ": " + got + " vs float64 on the halves " + onHalves[t][i]);
                        double bound = (Math.expm1(2 * shift) + U) * absF[t][i] + 2e-5 * (1 + Math.abs(onFloats[t][i]));
                        double e2 = Math.abs(got - onFloats[t][i]);
                        assertTrue(e2 <= bound, ctx + ", token " + t + ", element " + i + ": " + got + " vs float64 on the floats "
                                + onFloats[t][i] + ", bound " + bound);
                    }
                }
            }
        }
    }

    /** Query heads in blocks of 1 .. the register tile's (decode steps split finer for many threads): the same bits. */
    @Test
    void everyHeadBlockGivesTheSameBits() {
        Assumptions.assumeTrue(NativeLlamaCpu.get().runs(16), "native attention: " + NativeLlamaCpu.get().why());
        long seed = 1308L;
        Random rnd = new Random(seed);
        int[][] shapes = {{32, 8, 128, 1, 200}, {8, 1, 64, 2, 33}, {12, 2, 32, 3, 5}, {4, 1, 16, 1, 70}};
        for (int[] sh : shapes) {
            int heads = sh[0], kvHeads = sh[1], hs = sh[2], n = sh[3], pos = sh[4];
            LlamaConfig c = new LlamaConfig(heads * hs, 4 * hs, 1, heads, kvHeads, hs, 32, 1024, hs, 10000.0, 1e-5f,
                    new RopeScaling.None());
            float[] q = random(rnd, n * c.qDim(), 1.5f);
            float[] k = random(rnd, (pos + n) * c.kvDim(), 1.5f);
            float[] v = random(rnd, (pos + n) * c.kvDim(), 1f);
            short[] kh = new short[k.length], vh = new short[v.length];
            KvCache.F16.toHalf(k, 0, kh, 0, k.length);
            KvCache.F16.toHalf(v, 0, vh, 0, v.length);
            float scale = (float) (1 / Math.sqrt(hs));
            int max = NativeLlamaCpu.maxHeadBlock(c);
            float[] first32 = null, first16 = null;
            for (int qb = 1; qb <= max; qb++) {
                float[] o32 = new float[n * c.qDim()], o16 = new float[n * c.qDim()];
                NativeLlamaCpu.get().attend(c, q, n, pos, k, v, o32, scale, qb, 0, NativeLlamaCpu.tasks(c, n, qb));
                NativeLlamaCpu.get().attend(c, q, n, pos, kh, vh, c.kvDim(), hs, o16, scale, qb, 0, NativeLlamaCpu.tasks(c, n, qb));
                String ctx = "seed " + seed + ", heads " + heads + "/" + kvHeads + ", hs " + hs + ", blocks of " + qb;
                if (first32 == null) {
                    first32 = o32;
                    first16 = o16;
                } else {
                    org.junit.jupiter.api.Assertions.assertArrayEquals(first32, o32, ctx + ", float cache");
                    org.junit.jupiter.api.Assertions.assertArrayEquals(first16, o16, ctx + ", half cache");
                }
            }
            int qb = max + 1;
            assertThrows(IllegalArgumentException.class,
                    () -> NativeLlamaCpu.get().attend(c, q, n, pos, k, v, new float[n * c.qDim()], scale, qb, 0, 1), "blocks of " + qb);
        }
    }

    /**
     * The prompt kernel (16 tokens in the vector lanes): within float rounding of float64 on the widened halves and of
     * the one-token loop, in both cache layouts, ragged token blocks, GQA groups of 1-8, head sizes 16-288; the same
     * bits however its tasks are split, and a token's output does not depend on which tokens share its block.
     */
    @Test
    void thePromptKernelMatchesFloat64AndTheOneTokenLoop() {
        Assumptions.assumeTrue(NativeLlamaCpu.get().runs(16), "native attention: " + NativeLlamaCpu.get().why());
        long seed = 1310L;
        Random rnd = new Random(seed);
        int[][] shapes = {{8, 4, 64, 37, 0}, {8, 2, 32, 20, 45}, {4, 4, 16, 16, 3}, {32, 8, 128, 33, 100}, {2, 1, 288, 17, 5},
            {8, 1, 64, 48, 0}};
        for (int[] sh : shapes) {
            int heads = sh[0], kvHeads = sh[1], hs = sh[2], n = sh[3], pos = sh[4], rows = pos + n;
            LlamaConfig c = new LlamaConfig(heads * hs, 4 * hs, 1, heads, kvHeads, hs, 32, 1024, hs, 10000.0, 1e-5f,
                    new RopeScaling.None());
            float[] q = random(rnd, n * c.qDim(), 2f);
            float[] kf = random(rnd, rows * c.kvDim(), 2f), vf = random(rnd, rows * c.kvDim(), 1f);
            short[] k = new short[kf.length], v = new short[vf.length];
            KvCache.F16.toHalf(kf, 0, k, 0, k.length);
            KvCache.F16.toHalf(vf, 0, v, 0, v.length);
            float[] kw = new float[k.length], vw = new float[v.length]; // the halves widened, interleaved layout
            for (int i = 0; i < k.length; i++) {
                kw[i] = Float.float16ToFloat(k[i]);
                vw[i] = Float.float16ToFloat(v[i]);
            }
            double[] want = AttentionPathsTest.reference(c, q, n, pos, kw, vw);
            float scale = (float) (1 / Math.sqrt(hs));
            NativeLlamaCpu nat = NativeLlamaCpu.get();
            // each head's rows together: element i of head g, position j at (g * rows + j) * hs + i
            short[] kh = new short[k.length], vh = new short[v.length];
            for (int j = 0; j < rows; j++) {
                for (int g = 0; g < kvHeads; g++) {
                    System.arraycopy(k, j * c.kvDim() + g * hs, kh, (g * rows + j) * hs, hs);
                    System.arraycopy(v, j * c.kvDim() + g * hs, vh, (g * rows + j) * hs, hs);
                }
            }
            int tasks = NativeLlamaCpu.promptTasks(c, n);
            float[] first = null;
            for (Object[] layout : new Object[][]{{k, v, (long) c.kvDim(), (long) hs}, {kh, vh, (long) hs, (long) rows * hs}}) {
                short[] lk = (short[]) layout[0], lv = (short[]) layout[1];
                long rs = (long) layout[2], hsd = (long) layout[3];
                String ctx = "seed " + seed + ", heads " + heads + "/" + kvHeads + ", hs " + hs + ", " + n + " tokens at " + pos
                        + ", strides " + rs + "/" + hsd;
                float[] got = new float[n * c.qDim()];
                nat.attendPrompt(c, q, n, pos, lk, lv, rs, hsd, got, scale, 0, tasks);
                float[] one = new float[n * c.qDim()];
                nat.attend(c, q, n, pos, lk, lv, rs, hsd, one, scale, 1, 0, NativeLlamaCpu.tasks(c, n, 1));
                for (int i = 0; i < want.length; i++) {
                    assertEquals(want[i], got[i], 2e-5 * (1 + Math.abs(want[i])), ctx + ", element " + i + " vs float64");
                    assertEquals(one[i], got[i], 2e-5 * (1 + Math.abs(one[i])), ctx + ", element " + i + " vs the one-token loop");
                }
                if (first == null) {
                    first = got;
                } else {
                    org.junit.jupiter.api.Assertions.assertArrayEquals(first, got, ctx + ": the layouts differ");
                }
                float[] split = new float[n * c.qDim()];
                nat.attendPrompt(c, q, n, pos, lk, lv, rs, hsd, split, scale, 0, tasks / 2);
                nat.attendPrompt(c, q, n, pos, lk, lv, rs, hsd, split, scale, tasks / 2, tasks);
                org.junit.jupiter.api.Assertions.assertArrayEquals(got, split, ctx + ": tasks split in two calls");
                int fewer = n - 5; // the last block holds other tokens (and fewer), the earlier rows must not change
                if (fewer >= NativeLlamaCpu.PROMPT_TOKENS) {
                    float[] part = new float[fewer * c.qDim()];
                    nat.attendPrompt(c, java.util.Arrays.copyOf(q, fewer * c.qDim()), fewer, pos, lk, lv, rs, hsd, part, scale, 0,
                            NativeLlamaCpu.promptTasks(c, fewer));
                    org.junit.jupiter.api.Assertions.assertArrayEquals(java.util.Arrays.copyOf(got, part.length), part,
                            ctx + ": the first " + fewer + " tokens alone");
                }
            }
        }
    }

    @Test
    void halvesAreTheNearestAndTheTypeFollowsTheProperty() {
        LlamaConfig c = new LlamaConfig(64, 256, 1, 4, 2, 16, 32, 1024, 16, 10000.0, 1e-5f, new RopeScaling.None());
        Random rnd = new Random(1307L);
        float[] k = random(rnd, 3 * c.kvDim(), 3f), v = random(rnd, 3 * c.kvDim(), 3f);
        k[0] = 70000f;      // beyond the largest half (65504): infinite, as llama.cpp's F16 cache stores it
        k[1] = 1e-8f;       // below the smallest subnormal half's half: zero
        k[2] = 1.00048828125f; // exactly between 1 and the next half (1 + 2^-10): ties to even, 1
        KvCache.F16 cache = new KvCache.F16(c, 1, 1024);
        cache.ensure(3);
        cache.write(0, k, v, 0, 3);
        short[] stored = new short[3 * c.kvDim()];
        KvCache.F16.toHalf(k, 0, stored, 0, stored.length);
        assertEquals(Float.POSITIVE_INFINITY, Float.float16ToFloat(stored[0]));
        assertEquals(0f, Float.float16ToFloat(stored[1]));
        assertEquals(1f, Float.float16ToFloat(stored[2]));
        for (int i = 3; i < stored.length; i++) {
            float h = Float.float16ToFloat(stored[i]);
            assertTrue(Math.abs(h - k[i]) <= U * Math.abs(k[i]), "element " + i + ": " + k[i] + " stored as " + h);
        }
        assertThrows(IllegalArgumentException.class, () -> KvCacheType.with("f8", () -> KvCache.create(c, 1, 16)));
        assertInstanceOf(KvCache.F32.class, KvCacheType.with("f32", () -> KvCache.create(c, 1, 16)));
        KvCache made = KvCacheType.with("f16", () -> KvCache.create(c, 1, 16));
        assertEquals(NativeLlamaCpu.get().runs(16) ? "f16" : "f32", made.type(), "f16 where the native attention runs, else f32");
    }

    private static float[] tail(float[] a, int from) {
        return java.util.Arrays.copyOfRange(a, from, a.length);
    }

    private static float[] random(Random rnd, int n, float scale) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) {
            a[i] = (float) (rnd.nextGaussian() * scale);
        }
        return a;
    }
}
