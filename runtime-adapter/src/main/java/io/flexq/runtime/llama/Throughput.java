package io.flexq.runtime.llama;

import java.util.SplittableRandom;

/**
 * One timed pass of the two phases of generation on a fresh session: prefill (the prompt as one batched forward,
 * logits of its last token only) and decode (single-token forwards, each fed the argmax of the previous logits).
 * Wall-clock time of the forwards alone: session setup and teardown are outside the timed regions.
 */
public final class Throughput {

    /**
     * Times of one pass; tokens/s = tokens / seconds.
     *
     * @param finiteLogits whether every logit of every step was finite (random weights scaled wrongly overflow)
     */
    public record Measurement(int promptTokens, long prefillNanos, int decodeTokens, long decodeNanos, boolean finiteLogits) {

        public double prefillTokensPerSecond() {
            return promptTokens * 1e9 / prefillNanos;
        }

        /** NaN when no token was decoded. */
        public double decodeTokensPerSecond() {
            return decodeTokens == 0 ? Double.NaN : decodeTokens * 1e9 / decodeNanos;
        }
    }

    private Throughput() {
    }

    /** {@code n} token ids drawn uniformly from [0, vocab) with {@code seed}: a prompt whose content does not matter. */
    public static int[] randomPrompt(int n, int vocab, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        int[] t = new int[n];
        for (int i = 0; i < n; i++) {
            t[i] = r.nextInt(vocab);
        }
        return t;
    }

    /**
     * Prefills {@code prompt} then decodes {@code decodeTokens} tokens in a new session of exactly
     * prompt + decode positions (prompts longer than 256 tokens go in chunks of 256, as {@link Llama#newSession(int)}
     * does for every caller).
     */
    public static Measurement measure(Llama llama, int[] prompt, int decodeTokens) {
        if (prompt.length == 0 || decodeTokens < 0) {
            throw new IllegalArgumentException("need a prompt of at least one token and decodeTokens >= 0, got "
                    + prompt.length + " and " + decodeTokens);
        }
        try (LlamaSession s = llama.newSession(prompt.length + decodeTokens)) {
            long t0 = System.nanoTime();
            float[] logits = s.forward(prompt, 0, prompt.length);
            long t1 = System.nanoTime();
            boolean finite = true;
            int[] next = new int[1];
            for (int i = 0; i < decodeTokens; i++) {
                next[0] = argmax(logits);
                finite &= allFinite(logits);  // O(vocab), next to a forward's O(parameters)
                logits = s.forward(next, 0, 1);
            }
            long t2 = System.nanoTime();
            return new Measurement(prompt.length, t1 - t0, decodeTokens, t2 - t1, finite && allFinite(logits));
        }
    }

    private static boolean allFinite(float[] a) {
        for (float v : a) {
            if (!Float.isFinite(v)) {
                return false;
            }
        }
        return true;
    }

    private static int argmax(float[] a) {
        int best = 0;
        for (int i = 1; i < a.length; i++) {
            if (a[i] > a[best]) {
                best = i;
            }
        }
        return best;
    }
}
