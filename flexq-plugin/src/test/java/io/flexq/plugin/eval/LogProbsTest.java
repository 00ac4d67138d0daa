package io.flexq.plugin.eval;

import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;

class LogProbsTest {

    /** p = (1/2, 1/2), q = (3/4, 1/4): KL = 1/2 ln(2/3) + 1/2 ln 2 = 1/2 ln(4/3). */
    @Test
    void kldOfTwoPointDistributionsMatchesClosedForm() {
        float[] ref = {0f, 0f};
        float[] test = {(float) Math.log(3), 0f};
        double expected = 0.5 * Math.log(4.0 / 3.0);
        // ln 3 rounded to float moves q by ~1e-8; the bound covers that and nothing more
        assertEquals(expected, LogProbs.kld(ref, test, 2), 1e-7);
        assertEquals(0.0, LogProbs.kld(ref, ref, 2), 0.0);
    }

    @Test
    void nllIsMinusLogOfSoftmaxProbability() {
        float[] logits = {(float) Math.log(3), 0f};
        assertEquals(Math.log(4), LogProbs.nll(logits, 2, 1), 1e-7);
        assertEquals(Math.log(4.0 / 3.0), LogProbs.nll(logits, 2, 0), 1e-7);
    }

    @Test
    void hugeLogitsDoNotOverflow() {
        float[] ref = {1000f, 1000f};
        float[] test = {1000f + (float) Math.log(3), 1000f};
        // float spacing at 1000 is 6e-5, so ln 3 is carried only to ~3e-5
        assertEquals(0.5 * Math.log(4.0 / 3.0), LogProbs.kld(ref, test, 2), 5e-5);
        assertEquals(Math.log(2), LogProbs.nll(ref, 2, 0), 1e-12);
    }

    /** Against the textbook formula computed directly from probabilities (no log-sum-exp), on small logits. */
    @Test
    void kldAndNllMatchDirectFormulaOnRandomLogits() {
        long seed = 20260428L;
        Random rnd = new Random(seed);
        for (int trial = 0; trial < 50; trial++) {
            int n = 2 + rnd.nextInt(300);
            float[] a = new float[n];
            float[] b = new float[n];
            for (int i = 0; i < n; i++) {
                a[i] = (float) (rnd.nextGaussian() * 3);
                b[i] = a[i] + (float) (rnd.nextGaussian() * 0.5);
            }
            double za = 0, zb = 0;
            for (int i = 0; i < n; i++) {
                za += Math.exp(a[i]);
                zb += Math.exp(b[i]);
            }
            double kl = 0;
            for (int i = 0; i < n; i++) {
                double p = Math.exp(a[i]) / za;
                double q = Math.exp(b[i]) / zb;
                kl += p * Math.log(p / q);
            }
            int t = rnd.nextInt(n);
            double nll = -Math.log(Math.exp(b[t]) / zb);
            assertEquals(kl, LogProbs.kld(a, b, n), 1e-12 + 1e-9 * kl, "seed " + seed + " trial " + trial);
            assertEquals(nll, LogProbs.nll(b, n, t), 1e-12, "seed " + seed + " trial " + trial);
        }
    }

    @Test
    void argmaxTakesLowestIndexOnTies() {
        assertEquals(1, LogProbs.argmax(new float[]{0f, 2f, 2f, 1f}, 4));
        assertEquals(0, LogProbs.argmax(new float[]{0f, 0f}, 2));
    }
}
