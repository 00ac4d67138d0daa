package io.flexq.runtime.serve;

import com.fasterxml.jackson.databind.JsonNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpHandler;
import io.flexq.runtime.chat.ChatTemplate;
import io.flexq.runtime.chat.Message;
import io.flexq.runtime.chat.PlainCompletion;
import io.flexq.runtime.chat.PromptEncoder;
import io.flexq.runtime.chat.PromptPart;
import io.flexq.runtime.sample.Sampler;

import java.io.IOException;
import java.io.OutputStream;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.Consumer;

/**
 * {@code POST /v1/chat/completions} (messages through the model's chat template) and {@code POST /v1/completions}
 * (a raw prompt after BOS, as {@code flexq generate} reads it): validate, queue a {@link Generation}, then answer with
 * one JSON object, or with server-sent events ({@code stream: true}) ending in {@code data: [DONE]}.
 */
final class CompletionEndpoint implements HttpHandler {

    enum Kind { CHAT, TEXT }

    /** A validated request, ready to queue. */
    private record Prepared(int[] prompt, int maxTokens, Requests.Sampling sampling, ChatTemplate template) {
    }

    private final Kind kind;
    private final String path;
    private final ServedModel model;
    private final Scheduler scheduler;
    private final Consumer<String> log;

    CompletionEndpoint(Kind kind, ServedModel model, Scheduler scheduler, Consumer<String> log) {
        this.kind = kind;
        this.path = kind == Kind.CHAT ? "/v1/chat/completions" : "/v1/completions";
        this.model = model;
        this.scheduler = scheduler;
        this.log = log;
    }

    @Override
    public void handle(HttpExchange ex) throws IOException {
        try (ex) {
            try {
                if (!ex.getRequestURI().getPath().equals(path)) {
                    throw ApiError.notFound("no endpoint " + ex.getRequestURI().getPath());
                }
                if (!ex.getRequestMethod().equals("POST")) {
                    throw ApiError.methodNotAllowed(ex.getRequestMethod(), path, "POST");
                }
                Prepared p = prepare(Requests.parse(Exchanges.body(ex)));
                String id = (kind == Kind.CHAT ? "chatcmpl-" : "cmpl-") + Long.toHexString(ThreadLocalRandom.current().nextLong() >>> 1);
                Generation g = new Generation(id, p.prompt(), p.maxTokens(), sampler(p.sampling()),
                        PromptEncoder.endOfReply(p.template(), model.tokenizer()), p.sampling().stop());
                scheduler.submit(g);
                long created = System.currentTimeMillis() / 1000;
                if (p.sampling().stream()) {
                    stream(ex, g, created, p.sampling().includeUsage());
                } else {
                    collect(ex, g, created);
                }
            } catch (ApiError e) {
                log.accept(ex.getRequestMethod() + " " + ex.getRequestURI().getPath() + ": " + e.status + " " + e.getMessage());
                Exchanges.error(ex, e);
            } catch (InterruptedException e) {
                Exchanges.error(ex, new ApiError(503, "server_error", "the server is shutting down", null, null));
            } catch (RuntimeException e) {
                // a bug of ours, not the client's: answer 500 with what we know (if the answer has not begun) and go on
                String message = e.getMessage() == null ? e.getClass().getName() : e.getMessage();
                log.accept(ex.getRequestMethod() + " " + ex.getRequestURI().getPath() + ": 500 " + message);
                if (ex.getResponseCode() == -1) {
                    Exchanges.error(ex, ApiError.internal(message));
                }
            }
        }
    }

    private Prepared prepare(JsonNode root) {
        Requests.Sampling sampling;
        List<PromptPart> parts;
        ChatTemplate template;
        try {
            if (kind == Kind.CHAT) {
                Requests.Chat chat = Requests.chat(root);
                sampling = chat.sampling();
                template = model.template();
                parts = template.render(chat.messages());
            } else {
                Requests.Completion c = Requests.completion(root);
                sampling = c.sampling();
                template = new PlainCompletion();
                parts = template.render(List.of(Message.user(c.prompt())));
            }
        } catch (IllegalArgumentException e) { // the template refuses this conversation (e.g. roles out of order)
            throw ApiError.invalid(kind == Kind.CHAT ? "messages" : "prompt", e.getMessage());
        }
        int[] ids;
        try {
            ids = PromptEncoder.encode(parts, model.tokenizer(), template.name());
        } catch (IllegalArgumentException e) {
            throw ApiError.invalid(kind == Kind.CHAT ? "messages" : "prompt", e.getMessage());
        }
        if (ids.length == 0) {
            throw ApiError.invalid("prompt", "the prompt encodes to no tokens and the vocabulary has no BOS");
        }
        int ctx = model.contextLength();
        if (ids.length >= ctx) {
            throw ApiError.contextLength("the prompt is " + ids.length + " tokens; the context holds " + ctx
                    + ", which leaves no room for a reply");
        }
        int maxTokens = ctx - ids.length;
        if (sampling.maxTokens().isPresent()) {
            int asked = sampling.maxTokens().getAsInt();
            if (asked > maxTokens) {
                throw ApiError.contextLength("the prompt (" + ids.length + " tokens) + max_tokens " + asked + " = "
                        + ((long) ids.length + asked) + " exceeds the context of " + ctx + " tokens");
            }
            maxTokens = asked;
        }
        return new Prepared(ids, maxTokens, sampling, template);
    }

    private static Sampler sampler(Requests.Sampling s) {
        long seed = s.seed().orElseGet(() -> ThreadLocalRandom.current().nextLong());
        return Sampler.of(s.temperature(), s.topP(), seed);
    }

    /** Waits for the whole reply, then answers with one JSON object. */
    private void collect(HttpExchange ex, Generation g, long created) throws IOException, InterruptedException {
        StringBuilder text = new StringBuilder();
        while (true) {
            switch (g.next()) {
                case Generation.Event.Text t -> text.append(t.text());
                case Generation.Event.Failed f -> {
                    Exchanges.error(ex, f.error());
                    return;
                }
                case Generation.Event.Done d -> {
                    Wire.Usage usage = Wire.Usage.of(d.promptTokens(), d.completionTokens());
                    Object body = kind == Kind.CHAT
                            ? new Wire.ChatCompletion(g.id, created, model.id(), List.of(new Wire.ChatChoice(0,
                                    new Wire.ChatMessage("assistant", text.toString(), null), null, d.finishReason())), usage)
                            : new Wire.TextCompletion(g.id, created, model.id(), List.of(new Wire.TextChoice(text.toString(), 0, null,
                                    d.finishReason())), usage);
                    Exchanges.json(ex, 200, body);
                    return;
                }
            }
        }
    }

    /**
     * Sends each piece of text as it comes. A write that fails means the client has gone: the generation is
     * cancelled (the worker stops at its next token and closes the session) and nothing more is written.
     */
    private void stream(HttpExchange ex, Generation g, long created, boolean includeUsage) {
        try {
            OutputStream out = Exchanges.startEvents(ex);
            if (kind == Kind.CHAT) {
                Exchanges.event(out, chatChunk(g, created, new Wire.Delta("assistant", ""), null));
            }
            while (true) {
                switch (g.next()) {
                    case Generation.Event.Text t -> Exchanges.event(out, kind == Kind.CHAT
                            ? chatChunk(g, created, new Wire.Delta(null, t.text()), null)
                            : textChunk(g, created, t.text(), null));
                    case Generation.Event.Failed f -> {
                        Exchanges.event(out, Wire.ErrorBody.of(f.error()));
                        return;
                    }
                    case Generation.Event.Done d -> {
                        Exchanges.event(out, kind == Kind.CHAT
                                ? chatChunk(g, created, new Wire.Delta(null, null), d.finishReason())
                                : textChunk(g, created, "", d.finishReason()));
                        if (includeUsage) {
                            Wire.Usage usage = Wire.Usage.of(d.promptTokens(), d.completionTokens());
                            Exchanges.event(out, kind == Kind.CHAT
                                    ? new Wire.ChatChunk(g.id, created, model.id(), List.of(), usage)
                                    : new Wire.TextCompletion(g.id, created, model.id(), List.of(), usage));
                        }
                        Exchanges.done(out);
                        out.close();
                        return;
                    }
                }
            }
        } catch (IOException e) {
            g.cancel();
            log.accept(g.id + ": the client went away mid-stream (" + e.getMessage() + ")");
        } catch (InterruptedException e) { // the server is stopping; the response has begun, so just end it
            g.cancel();
        }
    }

    private Wire.ChatChunk chatChunk(Generation g, long created, Wire.Delta delta, String finishReason) {
        return new Wire.ChatChunk(g.id, created, model.id(), List.of(new Wire.ChunkChoice(0, delta, null, finishReason)), null);
    }

    private Wire.TextCompletion textChunk(Generation g, long created, String text, String finishReason) {
        return new Wire.TextCompletion(g.id, created, model.id(), List.of(new Wire.TextChoice(text, 0, null, finishReason)), null);
    }
}
