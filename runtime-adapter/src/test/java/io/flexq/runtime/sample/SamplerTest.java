package io.flexq.runtime.sample;

import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.Comparator;
import java.util.SplittableRandom;
import java.util.stream.IntStream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SamplerTest {

    static float[] randomLogits(long seed, int n, double scale) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] l = new float[n];
        for (int i = 0; i < n; i++) {
            l[i] = (float) (r.nextGaussian() * scale);
        }
        return l;
    }

    static int[] draws(Sampler s, float[] logits, int n) {
        return IntStream.range(0, n).map(i -> s.sample(logits)).toArray();
    }

    /** Reference nucleus: sort every token by probability (double softmax), take the shortest prefix reaching topP. */
    static boolean[] nucleus(float[] logits, double temperature, double topP) {
        double max = Double.NEGATIVE_INFINITY;
        for (float l : logits) {
            max = Math.max(max, l);
        }
        double[] p = new double[logits.length];
        double sum = 0;
        for (int i = 0; i < p.length; i++) {
            p[i] = Math.exp((logits[i] - max) / temperature);
            sum += p[i];
        }
        final double total = sum;
        Integer[] order = IntStream.range(0, p.length).boxed().toArray(Integer[]::new);
        Arrays.sort(order, Comparator.comparingDouble((Integer i) -> -p[i]).thenComparing(i -> i));
        boolean[] in = new boolean[p.length];
        double mass = 0;
        for (int id : order) {
            in[id] = true;
            mass += p[id] / total;
            if (mass >= topP) {
                break;
            }
        }
        return in;
    }

    @Test
    void temperatureZeroIsGreedyAndTiesGoToTheLowestId() {
        Sampler s = Sampler.of(0, 0.9, 1);
        assertInstanceOf(GreedySampler.class, s);
        assertEquals(2, s.sample(new float[]{0f, 1f, 3f, 3f, -1f}));
    }

    @Test
    void theSameSeedGivesTheSameTokens() {
        long seed = 42;
        float[] logits = randomLogits(seed, 512, 2.0);
        for (double topP : new double[]{1.0, 0.9, 0.5}) {
            int[] a = draws(Sampler.of(0.8, topP, seed), logits, 300);
            int[] b = draws(Sampler.of(0.8, topP, seed), logits, 300);
            int[] c = draws(Sampler.of(0.8, topP, seed + 1), logits, 300);
            assertArrayEquals(a, b, "seed " + seed + " top-p " + topP);
            assertFalse(Arrays.equals(a, c), "seeds " + seed + " and " + (seed + 1) + " should differ at top-p " + topP);
        }
    }

    @Test
    void topPNeverLeavesTheNucleus() {
        for (long seed = 1; seed <= 3; seed++) {
            float[] logits = randomLogits(seed, 1000, 3.0);
            for (double topP : new double[]{0.05, 0.5, 0.9, 0.99}) {
                boolean[] in = nucleus(logits, 0.7, topP);
                for (int t : draws(Sampler.of(0.7, topP, seed), logits, 500)) {
                    assertTrue(in[t], "seed " + seed + " top-p " + topP + ": token " + t + " is outside the nucleus");
                }
            }
        }
    }

    @Test
    void aTinyTopPIsTheArgmaxEvenForAFlatDistribution() {
        float[] flat = new float[100];
        assertTrue(Arrays.stream(draws(Sampler.of(1.0, 0.001, 3), flat, 200)).allMatch(t -> t == 0));
        float[] logits = randomLogits(9, 300, 1.0);
        int argmax = new GreedySampler().sample(logits);
        assertTrue(Arrays.stream(draws(Sampler.of(1.5, 1e-9, 3), logits, 200)).allMatch(t -> t == argmax));
    }

    @Test
    void frequenciesFollowTheRenormalisedNucleus() {
        long seed = 2026;
        float[] logits = {2.0f, 1.5f, 1.0f, 0.0f, -1.0f, -3.0f};
        double temperature = 0.9, topP = 0.8;
        boolean[] in = nucleus(logits, temperature, topP);
        double[] expected = new double[logits.length];
        double sum = 0;
        for (int i = 0; i < logits.length; i++) {
            expected[i] = in[i] ? Math.exp(logits[i] / temperature) : 0;
            sum += expected[i];
        }
        int n = 40000;
        int[] counts = new int[logits.length];
        for (int t : draws(Sampler.of(temperature, topP, seed), logits, n)) {
            counts[t]++;
        }
        for (int i = 0; i < logits.length; i++) {
            double p = expected[i] / sum;
            double sd = Math.sqrt(p * (1 - p) / n);
            assertEquals(p, counts[i] / (double) n, 5 * sd + 1e-12, "seed " + seed + " token " + i);
        }
    }

    @Test
    void badSettingsAreRefused() {
        assertThrows(IllegalArgumentException.class, () -> Sampler.of(-0.1, 0.9, 1));
        assertThrows(IllegalArgumentException.class, () -> Sampler.of(Double.NaN, 0.9, 1));
        assertThrows(IllegalArgumentException.class, () -> Sampler.of(1, 0, 1));
        assertThrows(IllegalArgumentException.class, () -> Sampler.of(1, 1.5, 1));
    }
}
