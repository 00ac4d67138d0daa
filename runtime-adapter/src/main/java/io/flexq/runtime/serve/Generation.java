package io.flexq.runtime.serve;

import io.flexq.runtime.sample.Sampler;

import java.util.List;
import java.util.Set;
import java.util.concurrent.LinkedBlockingQueue;

/**
 * One request's generation: what the worker is asked to do, and the channel its output comes back on. The worker
 * never touches the network: it puts events here and the request's own thread writes them, so a slow or dead client
 * cannot hold up the model; that thread {@link #cancel}s when the client is gone and the worker stops at its next
 * token. The queue is unbounded, but one generation puts at most max_tokens + 3 events in it (a piece per token,
 * the decoder's and the stop matcher's held-back text, the end).
 */
final class Generation {

    /** What the worker reports, in order: text pieces, then exactly one Done or Failed. */
    sealed interface Event {
        record Text(String text) implements Event {
        }

        /** finishReason "stop" (stop token or stop string) or "length" (max_tokens reached). */
        record Done(String finishReason, int promptTokens, int completionTokens) implements Event {
        }

        record Failed(ApiError error) implements Event {
        }
    }

    final String id;
    final int[] prompt;
    final int maxTokens;
    final Sampler sampler;
    final Set<Integer> stopTokens;
    final List<String> stopStrings;
    private final LinkedBlockingQueue<Event> events = new LinkedBlockingQueue<>();
    private volatile boolean cancelled;

    Generation(String id, int[] prompt, int maxTokens, Sampler sampler, Set<Integer> stopTokens, List<String> stopStrings) {
        this.id = id;
        this.prompt = prompt;
        this.maxTokens = maxTokens;
        this.sampler = sampler;
        this.stopTokens = Set.copyOf(stopTokens);
        this.stopStrings = List.copyOf(stopStrings);
    }

    /** The client is gone (or the server is stopping): generate nothing more. */
    void cancel() {
        cancelled = true;
    }

    boolean cancelled() {
        return cancelled;
    }

    void emit(Event e) {
        events.add(e);
    }

    /** The next event, waiting for it. */
    Event next() throws InterruptedException {
        return events.take();
    }
}
