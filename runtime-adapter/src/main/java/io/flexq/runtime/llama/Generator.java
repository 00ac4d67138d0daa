package io.flexq.runtime.llama;

import io.flexq.runtime.sample.Sampler;

import java.util.Arrays;
import java.util.Set;
import java.util.function.IntConsumer;

/**
 * The decode loop: prefill the new prompt tokens as one batch, then sample one token at a time until a stop token
 * or the token budget. Stop tokens end the reply and are not reported; every other token is fed back.
 */
public final class Generator {

    /** Why generation ended. */
    public enum Stop { STOP_TOKEN, MAX_TOKENS }

    /** The generated tokens (stop token excluded) and why it ended. */
    public record Result(int[] tokens, Stop stop) {
    }

    private Generator() {
    }

    /**
     * Feeds {@code prompt} at the session's current position, then generates up to {@code maxTokens} tokens.
     *
     * @param onToken called with each generated token as soon as it is chosen (for streaming)
     * @throws ContextLengthException if the prompt plus {@code maxTokens} does not fit in the session; checked first
     */
    public static Result generate(LlamaSession session, int[] prompt, int maxTokens, Sampler sampler,
                                  Set<Integer> stopTokens, IntConsumer onToken) {
        if (prompt.length == 0) {
            throw new IllegalArgumentException("an empty prompt: give at least one token (e.g. BOS)");
        }
        if (maxTokens < 0) {
            throw new IllegalArgumentException("max tokens must be >= 0, got " + maxTokens);
        }
        // counted as llama.cpp does (n_prompt + n_predict <= n_ctx), though the last token is never fed back
        long needed = (long) session.position() + prompt.length + maxTokens;
        if (needed > session.capacity()) {
            throw new ContextLengthException("prompt of " + prompt.length + " tokens"
                    + (session.position() > 0 ? " after " + session.position() + " cached" : "")
                    + " + " + maxTokens + " new tokens needs " + needed + " positions; the context holds " + session.capacity());
        }
        int[] out = new int[maxTokens];
        if (maxTokens == 0) {
            session.forward(prompt, 0, prompt.length);
            return new Result(out, Stop.MAX_TOKENS);
        }
        boolean greedy = sampler instanceof io.flexq.runtime.sample.GreedySampler;
        // greedy: the argmax is taken where the logits are (on a device only the id comes back)
        float[] logits = greedy ? null : session.forward(prompt, 0, prompt.length);
        int next = greedy ? session.forwardGreedy(prompt, 0, prompt.length) : -1;
        int n = 0;
        while (true) {
            if (!greedy) {
                next = sampler.sample(logits);
            }
            if (stopTokens.contains(next)) {
                return new Result(Arrays.copyOf(out, n), Stop.STOP_TOKEN);
            }
            out[n++] = next;
            onToken.accept(next);
            if (n == maxTokens) {
                return new Result(out, Stop.MAX_TOKENS);
            }
            if (greedy) {
                next = session.forwardGreedy(new int[]{next}, 0, 1);
            } else {
                logits = session.forward(new int[]{next}, 0, 1);
            }
        }
    }
}
