package io.flexq.plugin.eval;

/**
 * A language model seen as a function from a token window to next-token logits at every position.
 * Each {@link #forward} call starts from an empty cache.
 */
public interface LogitModel {

    int vocabSize();

    /**
     * Runs {@code tokens} from position 0 and hands the logits of every position {@code p >= from} to
     * {@code sink}, in increasing order of p. The array passed may be reused by the next call.
     */
    void forward(int[] tokens, int from, LogitSink sink);

    @FunctionalInterface
    interface LogitSink {
        void accept(int position, float[] logits);
    }
}
