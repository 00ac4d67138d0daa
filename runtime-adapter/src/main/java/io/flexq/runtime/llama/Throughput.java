package io.flexq.runtime.llama;

import java.util.SplittableRandom;

/**
 * One timed pass of the two phases of generation on a fresh session: prefill (the prompt as one batched forward,
 * logits of its last token only) and decode (single-token forwards, each fed the argmax of the previous logits).
 * Wall-clock time of the forwards alone: session setup and teardown are outside the timed regions. Decode steps
 * take the argmax where the logits are ({@link LlamaSession#forwardGreedy}): on a device only the id comes back, as
 * in greedy generation.
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
     * prompt + decode positions (prompts longer than the prompt batch, 512 tokens on the CPU, go in chunks, as {@link Llama#newSession(int)}
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
            boolean finite = allFinite(logits);  // the prefill's logits; decode steps return only the argmax
            int[] next = {new io.flexq.runtime.sample.GreedySampler().sample(logits)};
            for (int i = 0; i < decodeTokens; i++) {
                next[0] = s.forwardGreedy(next, 0, 1);
            }
            long t2 = System.nanoTime();
            return new Measurement(prompt.length, t1 - t0, decodeTokens, t2 - t1, finite);
        }
    }

    /**
     * Batched decode: {@code batch} independent sessions, each prefilled with its own random prompt of
     * {@code prompt.length} tokens (one after the other), then {@code decodeTokens} greedy steps in which every
     * session advances by one token ({@link Llama#decodeGreedy}: one batch through every matmul on a device).
     * Tokens counted over all sessions.
     */
    public static Measurement measureBatch(Llama llama, int[] prompt, int decodeTokens, int batch, long seed) {
        if (batch == 1) {
            return measure(llama, prompt, decodeTokens);
        }
        LlamaSession[] sessions = new LlamaSession[batch];
        try {
            for (int i = 0; i < batch; i++) {
                sessions[i] = llama.newSession(prompt.length + decodeTokens);
            }
            int vocab = llama.config().vocabSize();
            int[] next = new int[batch];
            long t0 = System.nanoTime();
            for (int i = 0; i < batch; i++) {
                int[] p = i == 0 ? prompt : randomPrompt(prompt.length, vocab, seed + i);
                next[i] = sessions[i].forwardGreedy(p, 0, p.length);
            }
            long t1 = System.nanoTime();
            for (int step = 0; step < decodeTokens; step++) {
                next = llama.decodeGreedy(sessions, next);
            }
            long t2 = System.nanoTime();
            boolean finite = true;
            for (int id : next) {
                finite &= id >= 0 && id < vocab;
            }
            return new Measurement(batch * prompt.length, t1 - t0, batch * decodeTokens, t2 - t1, finite);
        } finally {
            for (LlamaSession s : sessions) {
                if (s != null) {
                    s.close();
                }
            }
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

}
