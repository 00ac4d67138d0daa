package io.flexq.runtime.sample;

import java.util.Arrays;
import java.util.random.RandomGenerator;

/**
 * Temperature and top-p ("nucleus") sampling. With {@code p_i = softmax(logits / temperature)_i}, the nucleus is the
 * shortest list of tokens, by decreasing probability (ties: lower id first), whose mass reaches {@code topP}; the
 * token is drawn from the nucleus with probabilities renormalised over it.
 *
 * <p>Sorting the whole vocabulary each step is avoided: a token with {@code p < (1 - topP) / (n - 1)} can never be
 * in the nucleus unless it is the most likely token. (If it were the last one needed, the tokens from it on, at
 * most n - 1 of them, would hold less than 1 - topP, so the tokens before it would already hold more than topP.)
 * So only tokens at or above that cutoff, plus the argmax, are sorted.
 */
public final class NucleusSampler implements Sampler {

    private final double temperature;
    private final double topP;
    private final RandomGenerator random;

    public NucleusSampler(double temperature, double topP, RandomGenerator random) {
        if (!(temperature > 0) || !(topP > 0 && topP <= 1)) {
            throw new IllegalArgumentException("need temperature > 0 and top-p in (0, 1], got " + temperature + " and " + topP);
        }
        this.temperature = temperature;
        this.topP = topP;
        this.random = random;
    }

    @Override
    public int sample(float[] logits) {
        int n = logits.length;
        double[] p = probabilities(logits);
        if (topP >= 1) {
            return draw(p, null, n, 1.0);
        }
        double cutoff = n > 1 ? (1 - topP) / (n - 1) : 0;
        int argmax = 0;
        int count = 0;
        Integer[] candidates = new Integer[n];
        for (int i = 0; i < n; i++) {
            if (p[i] > p[argmax]) {
                argmax = i;
            }
            if (p[i] >= cutoff) {
                candidates[count++] = i;
            }
        }
        if (count == 0) {
            candidates[count++] = argmax;
        }
        Arrays.sort(candidates, 0, count, (a, b) -> p[a] != p[b] ? Double.compare(p[b], p[a]) : Integer.compare(a, b));
        int[] nucleus = new int[count];
        double mass = 0;
        int size = 0;
        while (size < count) {
            nucleus[size] = candidates[size];
            mass += p[nucleus[size]];
            size++;
            if (mass >= topP) {
                break;
            }
        }
        return draw(p, nucleus, size, mass);
    }

    /** softmax(logits / temperature) in double. */
    private double[] probabilities(float[] logits) {
        double max = Double.NEGATIVE_INFINITY;
        for (float l : logits) {
            max = Math.max(max, l);
        }
        double[] p = new double[logits.length];
        double sum = 0;
        for (int i = 0; i < logits.length; i++) {
            p[i] = Math.exp((logits[i] - max) / temperature);
            sum += p[i];
        }
        for (int i = 0; i < p.length; i++) {
            p[i] /= sum;
        }
        return p;
    }

    /** Draws from ids (or 0..size-1 when ids is null) with weights p[id], whose sum is mass. */
    private int draw(double[] p, int[] ids, int size, double mass) {
        double u = random.nextDouble() * mass;
        double cumulative = 0;
        for (int i = 0; i < size; i++) {
            int id = ids == null ? i : ids[i];
            cumulative += p[id];
            if (u < cumulative) {
                return id;
            }
        }
        // rounding left u just above the total: the last token with non-zero weight
        for (int i = size - 1; i >= 0; i--) {
            int id = ids == null ? i : ids[i];
            if (p[id] > 0) {
                return id;
            }
        }
        return ids == null ? 0 : ids[0];
    }
}
