package io.flexq.runtime.serve;

import io.flexq.runtime.llama.ContextLengthException;
import io.flexq.runtime.llama.Generator;
import io.flexq.runtime.llama.LlamaSession;
import io.flexq.runtime.tokenizer.TokenStreamDecoder;

import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.function.Consumer;
import java.util.function.IntConsumer;

/**
 * Runs generations one at a time, first come first served, on one worker thread that owns the model. Each request
 * gets its own {@link LlamaSession} (its own KV cache), made when its turn comes and closed when it ends, so no two
 * requests ever share a cache and a session is only ever driven by the worker. One at a time is what a CPU host
 * wants anyway (a forward pass already uses every core); requests beyond the one running wait in a bounded queue.
 */
final class Scheduler implements AutoCloseable {

    /** Thrown from the token callback to leave the decode loop early (stop string, client gone); never escapes. */
    private static final class EndEarly extends RuntimeException {
        EndEarly() {
            super(null, null, false, false);
        }
    }

    private final ServedModel model;
    private final BlockingQueue<Generation> queue;
    private final Consumer<String> log;
    private final IntConsumer afterToken;
    private final Thread worker;

    /**
     * @param afterToken called on the worker after each generated token with the count so far; tests use it to slow
     *                   generation down so that a disconnect lands mid-stream. Production passes a no-op.
     */
    Scheduler(ServedModel model, int maxQueued, Consumer<String> log, IntConsumer afterToken) {
        this.model = model;
        this.queue = new ArrayBlockingQueue<>(maxQueued);
        this.log = log;
        this.afterToken = afterToken;
        this.worker = Thread.ofPlatform().name("flexq-serve-worker").daemon(true).start(this::loop);
    }

    /** Queues a generation; 503 if the queue is full. */
    void submit(Generation g) {
        if (!queue.offer(g)) {
            throw ApiError.busy(queue.size());
        }
    }

    private void loop() {
        while (true) {
            Generation g;
            try {
                g = queue.take();
            } catch (InterruptedException e) {
                return;
            }
            if (g.cancelled()) {
                log.accept(g.id + ": dropped before it started (client gone)");
                continue;
            }
            try {
                run(g);
            } catch (RuntimeException | OutOfMemoryError e) {
                // the worker outlives any one request: report it to that request and go on
                String message = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
                log.accept(g.id + ": failed: " + message);
                g.emit(new Generation.Event.Failed(e instanceof ContextLengthException
                        ? ApiError.contextLength(message) : ApiError.internal("generation failed: " + message)));
            }
        }
    }

    private void run(Generation g) {
        long start = System.nanoTime();
        TokenStreamDecoder decoder = model.tokenizer().decoder();
        decoder.accept(g.prompt[g.prompt.length - 1]); // the first piece decodes in context (leading space or not)
        StopSequences stops = new StopSequences(g.stopStrings);
        int[] count = {0};
        String finish;
        try (LlamaSession session = model.llama().newSession(model.contextLength())) {
            Generator.Result r = Generator.generate(session, g.prompt, g.maxTokens, g.sampler, g.stopTokens, token -> {
                count[0]++;
                send(g, stops.accept(decoder.accept(token)));
                afterToken.accept(count[0]);
                if (stops.stopped() || g.cancelled() || Thread.currentThread().isInterrupted()) {
                    throw new EndEarly();
                }
            });
            send(g, stops.accept(decoder.flush()));
            finish = stops.stopped() || r.stop() == Generator.Stop.STOP_TOKEN ? "stop" : "length";
        } catch (EndEarly e) {
            if (!stops.stopped()) {
                g.cancel();
                log.accept(g.id + ": cancelled after " + count[0] + " tokens (client gone); session closed");
                g.emit(new Generation.Event.Failed(ApiError.internal("cancelled")));
                return;
            }
            finish = "stop";
        }
        if (!stops.stopped()) {
            send(g, stops.finish());
        }
        g.emit(new Generation.Event.Done(finish, g.prompt.length, count[0]));
        log.accept(String.format("%s: %d prompt + %d generated tokens in %.2f s, finish_reason %s",
                g.id, g.prompt.length, count[0], (System.nanoTime() - start) / 1e9, finish));
    }

    private static void send(Generation g, String text) {
        if (!text.isEmpty()) {
            g.emit(new Generation.Event.Text(text));
        }
    }

    /** Stops the worker after the token it is on; waiting requests get 503. */
    @Override
    public void close() {
        worker.interrupt();
        try {
            worker.join(10_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        for (Generation g; (g = queue.poll()) != null; ) {
            g.emit(new Generation.Event.Failed(new ApiError(503, "server_error", "the server is shutting down", null, null)));
        }
    }
}
