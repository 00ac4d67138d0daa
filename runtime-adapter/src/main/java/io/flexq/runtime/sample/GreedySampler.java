package io.flexq.runtime.sample;

/** Argmax; among equal logits the lowest id wins. */
public record GreedySampler() implements Sampler {
    @Override
    public int sample(float[] logits) {
        int best = 0;
        for (int i = 1; i < logits.length; i++) {
            if (logits[i] > logits[best]) {
                best = i;
            }
        }
        return best;
    }
}
