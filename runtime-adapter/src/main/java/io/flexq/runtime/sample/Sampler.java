package io.flexq.runtime.sample;

import java.util.SplittableRandom;

/** Picks the next token from a row of logits. */
public sealed interface Sampler permits GreedySampler, NucleusSampler {

    /** The chosen token id, in [0, logits.length). */
    int sample(float[] logits);

    /**
     * The sampler for these settings: greedy (argmax) when {@code temperature == 0}, otherwise softmax(logits / T)
     * restricted to the top-p nucleus ({@code topP >= 1}: no restriction), drawn from a {@link SplittableRandom}
     * seeded with {@code seed}, so a seed gives the same tokens every run.
     */
    static Sampler of(double temperature, double topP, long seed) {
        if (!(temperature >= 0) || Double.isInfinite(temperature)) {
            throw new IllegalArgumentException("temperature must be a finite number >= 0, got " + temperature);
        }
        if (!(topP > 0 && topP <= 1)) {
            throw new IllegalArgumentException("top-p must be in (0, 1], got " + topP);
        }
        return temperature == 0 ? new GreedySampler() : new NucleusSampler(temperature, topP, new SplittableRandom(seed));
    }
}
