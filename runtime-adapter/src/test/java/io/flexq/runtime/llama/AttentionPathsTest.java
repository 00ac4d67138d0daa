package io.flexq.runtime.llama;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The native attention against a float64 reference written here, and against the Java path: the same scores
 * (bit for bit, so the same maximum) and weights within float rounding of the exponential.
 */
class AttentionPathsTest {

    /** softmax(q.k / sqrt(hs)) v in double, causal, grouped heads. */
    static double[] reference(LlamaConfig c, float[] q, int n, int pos, float[] keys, float[] values) {
        int hs = c.headSize(), qDim = c.qDim(), kvDim = c.kvDim(), group = c.heads() / c.kvHeads();
        double[] out = new double[n * qDim];
        for (int t = 0; t < n; t++) {
            for (int h = 0; h < c.heads(); h++) {
                int length = pos + t + 1, kv = (h / group) * hs;
                double[] s = new double[length];
                double max = Double.NEGATIVE_INFINITY, sum = 0;
                for (int j = 0; j < length; j++) {
                    for (int d = 0; d < hs; d++) {
                        s[j] += (double) q[t * qDim + h * hs + d] * keys[j * kvDim + kv + d];
                    }
                    s[j] /= Math.sqrt(hs);
                    max = Math.max(max, s[j]);
                }
                for (int j = 0; j < length; j++) {
                    s[j] = Math.exp(s[j] - max);
                    sum += s[j];
                }
                for (int j = 0; j < length; j++) {
                    for (int d = 0; d < hs; d++) {
                        out[t * qDim + h * hs + d] += s[j] / sum * values[j * kvDim + kv + d];
                    }
                }
            }
        }
        return out;
    }

    @Test
    void nativeAttentionMatchesFloat64AndTheJavaPath() {
        long seed = 1303L;
        Random rnd = new Random(seed);
        Assumptions.assumeTrue(NativeLlamaCpu.get().runs(64), "native attention: " + NativeLlamaCpu.get().why());
        // heads, kv heads, head size, tokens, position: GQA groups of 1-8, head sizes 16-288 (288: no register tile)
        int[][] shapes = {{4, 2, 64, 1, 0}, {8, 4, 64, 1, 300}, {6, 2, 32, 7, 40}, {2, 2, 128, 5, 17}, {4, 1, 16, 33, 0},
            {8, 1, 16, 3, 20}, {2, 1, 288, 2, 3}};
        for (int[] sh : shapes) {
            int heads = sh[0], kvHeads = sh[1], hs = sh[2], n = sh[3], pos = sh[4];
            LlamaConfig c = new LlamaConfig(heads * hs, 4 * hs, 1, heads, kvHeads, hs, 32, 1024, hs, 10000.0, 1e-5f, new RopeScaling.None());
            float[] q = random(rnd, n * c.qDim(), 2f);
            float[] keys = random(rnd, (pos + n) * c.kvDim(), 2f);
            float[] values = random(rnd, (pos + n) * c.kvDim(), 1f);
            float[] nat = new float[n * c.qDim()], java = new float[n * c.qDim()];
            Attention.attend(c, q, n, pos, keys, values, nat);
            Attention.attendJava(c, q, n, pos, keys, values, java);
            double[] want = reference(c, q, n, pos, keys, values);
            String ctx = "seed " + seed + ", heads " + heads + "/" + kvHeads + ", hs " + hs + ", " + n + " tokens at " + pos;
            for (int i = 0; i < want.length; i++) {
                assertEquals(want[i], nat[i], 2e-5 * (1 + Math.abs(want[i])), ctx + ", native, element " + i);
                assertEquals(java[i], nat[i], 2e-5 * (1 + Math.abs(java[i])), ctx + ", native vs Java, element " + i);
            }
            float[] again = new float[nat.length];
            Attention.attend(c, q, n, pos, keys, values, again);
            assertArrayEquals(nat, again, ctx + ": two native runs differ");
        }
    }

    /** On a spinning team (3 threads, or 1: the caller alone): the same bits as on the common pool, both paths. */
    @Test
    void onATeamGivesTheSameBits() {
        long seed = 1305L;
        Random rnd = new Random(seed);
        // heads, kv heads, head size, position, tokens
        int[][] shapes = {{8, 4, 64, 0, 1}, {8, 4, 64, 300, 1}, {6, 2, 32, 40, 1}, {4, 1, 16, 17, 6}, {8, 8, 16, 5, 1}, {2, 1, 8, 9, 3}};
        try (io.flexq.runtime.cpu.SpinTeam three = new io.flexq.runtime.cpu.SpinTeam(3, 200_000);
             io.flexq.runtime.cpu.SpinTeam one = new io.flexq.runtime.cpu.SpinTeam(1, 200_000)) {
            for (int[] sh : shapes) {
                for (io.flexq.runtime.cpu.SpinTeam team : new io.flexq.runtime.cpu.SpinTeam[]{three, one}) {
                    int heads = sh[0], kvHeads = sh[1], hs = sh[2], pos = sh[3], n = sh[4];
                    LlamaConfig c = new LlamaConfig(heads * hs, 4 * hs, 1, heads, kvHeads, hs, 32, 1024, hs, 10000.0, 1e-5f, new RopeScaling.None());
                    float[] q = random(rnd, n * c.qDim(), 2f);
                    float[] keys = random(rnd, (pos + n) * c.kvDim(), 2f);
                    float[] values = random(rnd, (pos + n) * c.kvDim(), 1f);
                    String ctx = "seed " + seed + ", heads " + heads + "/" + kvHeads + ", hs " + hs + ", " + n + " tokens at " + pos
                            + ", " + team;
                    float[] pool = new float[n * c.qDim()], onTeam = new float[n * c.qDim()];
                    Attention.attend(c, q, n, pos, keys, values, pool);
                    Attention.attend(c, q, n, pos, keys, values, onTeam, team);
                    assertArrayEquals(pool, onTeam, ctx + ", default path");
                    float[] javaPool = new float[n * c.qDim()], javaTeam = new float[n * c.qDim()];
                    Attention.attendJava(c, q, n, pos, keys, values, javaPool);
                    Attention.attendJava(c, q, n, pos, keys, values, javaTeam, team);
                    assertArrayEquals(javaPool, javaTeam, ctx + ", Java path");
                    double[] want = reference(c, q, n, pos, keys, values);
                    for (int i = 0; i < want.length; i++) {
                        assertEquals(want[i], onTeam[i], 2e-5 * (1 + Math.abs(want[i])), ctx + ", element " + i);
                    }
                }
            }
        }
    }

    @Test
    void nativeSwigluMatchesFloat64AndTheJavaPath() {
        Assumptions.assumeTrue(NativeLlamaCpu.get().runsSwiglu(), "native swiglu: " + NativeLlamaCpu.get().why());
        long seed = 1304L;
        Random rnd = new Random(seed);
        int n = 1000;
        float[] gate = random(rnd, n, 4f), up = random(rnd, n, 1f);
        gate[0] = -100f; // e^100 overflows a float: silu is -0 in the Java path, a tiny negative number here
        gate[1] = 100f;
        gate[2] = 0f;
        float[] nat = gate.clone(), java = gate.clone();
        NativeLlamaCpu.get().swiglu(nat, up, n - 3); // a ragged tail, and the last three untouched
        VectorMath.swigluJava(java, up, n - 3);
        for (int i = 0; i < n; i++) {
            if (i >= n - 3) {
                assertEquals(gate[i], nat[i], 0f, "seed " + seed + ": element " + i + " beyond n was changed");
                continue;
            }
            double g = gate[i], want = g / (1 + Math.exp(-g)) * up[i];
            assertEquals(want, nat[i], 1e-6 * (1 + Math.abs(want)), "seed " + seed + ", element " + i);
            assertEquals(java[i], nat[i], 1e-6 * (1 + Math.abs(want)), "seed " + seed + ", native vs Java, element " + i);
        }
    }

    private static float[] random(Random rnd, int n, float scale) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) {
            a[i] = (float) (rnd.nextGaussian() * scale);
        }
        return a;
    }
}
