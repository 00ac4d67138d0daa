package io.flexq.plugin.eval;

/**
 * The perplexity protocol of llama.cpp's {@code llama-perplexity}, so our numbers compare with its:
 * the whole text is tokenized once (with BOS first), cut into non-overlapping windows of {@code ctx}
 * tokens (a trailing partial window is dropped), the first token of every window is replaced by BOS,
 * each window is run from an empty cache, and only the second half is scored: the logits at position j,
 * for j in [ctx/2, ctx-1), predict the original token at j+1. A window of 512 thus scores 255 tokens
 * that all see at least 256 tokens of context.
 */
public record Windows(int[] tokens, int ctx, int count, int bos) {

    public Windows {
        if (ctx < 4) {
            throw new IllegalArgumentException("context of " + ctx + " tokens is too short to score (needs >= 4)");
        }
        if (count < 0 || (long) count * ctx > tokens.length) {
            throw new IllegalArgumentException(count + " windows of " + ctx + " do not fit in " + tokens.length + " tokens");
        }
    }

    /** As many whole windows as the tokens hold, at most {@code maxWindows} (0 or less: no limit). */
    public static Windows of(int[] tokens, int ctx, int maxWindows, int bos) {
        int available = tokens.length / ctx;
        int n = maxWindows > 0 ? Math.min(available, maxWindows) : available;
        return new Windows(tokens, ctx, n, bos);
    }

    /** The input tokens of window {@code w}: its ctx tokens with the first one replaced by BOS. */
    public int[] input(int w) {
        int[] in = new int[ctx];
        System.arraycopy(tokens, w * ctx, in, 0, ctx);
        in[0] = bos;
        return in;
    }

    /** First scored position of a window. */
    public int firstScored() {
        return ctx / 2;
    }

    /** Scored positions per window: ctx - 1 - ctx/2. */
    public int scoredPerWindow() {
        return ctx - 1 - firstScored();
    }

    /** The token predicted by the logits at position {@code j} of window {@code w}. */
    public int target(int w, int j) {
        return tokens[w * ctx + j + 1];
    }
}
