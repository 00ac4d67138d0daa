package io.flexq.plugin.eval;

import io.flexq.runtime.llama.Llama;
import io.flexq.runtime.llama.LlamaSession;

/** A loaded Llama as a {@link LogitModel}: one session, rewound to position 0 for every window. */
public final class LlamaLogits implements LogitModel, AutoCloseable {

    private final Llama model;
    private final int ctx;
    private LlamaSession session;

    /** @param ctx the longest window that will be run */
    public LlamaLogits(Llama model, int ctx) {
        this.model = model;
        this.ctx = ctx;
    }

    @Override
    public int vocabSize() {
        return model.config().vocabSize();
    }

    @Override
    public void forward(int[] tokens, int from, LogitSink sink) {
        if (session == null) {
            session = model.newSession(ctx, ctx);
        }
        session.rewind(0);
        float[][] logits = session.forwardAll(tokens, 0, tokens.length);
        for (int p = from; p < tokens.length; p++) {
            sink.accept(p, logits[p]);
        }
    }

    @Override
    public void close() {
        if (session != null) {
            session.close();
        }
    }
}
