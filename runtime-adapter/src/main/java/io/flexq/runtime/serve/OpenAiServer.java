package io.flexq.runtime.serve;

import com.sun.net.httpserver.HttpServer;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.IntConsumer;

/**
 * An OpenAI-compatible HTTP server for one model, on the JDK's HTTP server:
 * <ul>
 *   <li>{@code POST /v1/chat/completions}: messages through the model's chat template;</li>
 *   <li>{@code POST /v1/completions}: a raw prompt after BOS;</li>
 *   <li>{@code GET /v1/models}.</li>
 * </ul>
 * Both completion endpoints honour temperature, top_p, max_tokens (or max_completion_tokens), seed and stop, and
 * stream server-sent events with {@code stream: true}. Each HTTP exchange runs on its own virtual thread; generation
 * runs on one worker that takes requests in arrival order (see {@link Scheduler}). Bad requests get a 4xx with
 * OpenAI's error object; nothing a client sends stops the server.
 *
 * <pre>{@code
 * try (OpenAiServer server = OpenAiServer.start(model, ServerOptions.of("127.0.0.1", 8080))) {
 *     server.awaitClose(); // or talk to server.baseUri()
 * }
 * }</pre>
 */
public final class OpenAiServer implements AutoCloseable {

    private final HttpServer http;
    private final ExecutorService exchanges;
    private final Scheduler scheduler;
    private final ServerOptions options;
    private final Object closed = new Object();
    private boolean isClosed;

    private OpenAiServer(HttpServer http, ExecutorService exchanges, Scheduler scheduler, ServerOptions options) {
        this.http = http;
        this.exchanges = exchanges;
        this.scheduler = scheduler;
        this.options = options;
    }

    /**
     * Binds {@code options.host():options.port()} and starts serving. The model stays the caller's to close, after
     * this server.
     *
     * @throws UncheckedIOException if the address cannot be bound (in use, or not an address of this host)
     */
    public static OpenAiServer start(ServedModel model, ServerOptions options) {
        return start(model, options, n -> { });
    }

    /** As {@link #start(ServedModel, ServerOptions)}, with a hook on the worker after each token (tests). */
    static OpenAiServer start(ServedModel model, ServerOptions options, IntConsumer afterToken) {
        HttpServer http;
        try {
            http = HttpServer.create(new InetSocketAddress(options.host(), options.port()), 0);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot listen on " + options.host() + ":" + options.port() + ": " + e.getMessage(), e);
        }
        Scheduler scheduler = new Scheduler(model, options.maxQueued(), options.log(), afterToken);
        ExecutorService exchanges = Executors.newVirtualThreadPerTaskExecutor();
        http.setExecutor(exchanges);
        http.createContext("/v1/chat/completions", new CompletionEndpoint(CompletionEndpoint.Kind.CHAT, model, scheduler, options.log()));
        http.createContext("/v1/completions", new CompletionEndpoint(CompletionEndpoint.Kind.TEXT, model, scheduler, options.log()));
        http.createContext("/v1/models", new ModelsEndpoint(model.id(), System.currentTimeMillis() / 1000));
        http.createContext("/", ex -> {
            try (ex) {
                Exchanges.error(ex, ApiError.notFound("no endpoint " + ex.getRequestURI().getPath()
                        + " (this server has POST /v1/chat/completions, POST /v1/completions, GET /v1/models)"));
            }
        });
        http.start();
        OpenAiServer server = new OpenAiServer(http, exchanges, scheduler, options);
        options.log().accept("serving " + model.id() + " (" + model.template().name() + " chat template, context "
                + model.contextLength() + ") at " + server.baseUri());
        return server;
    }

    /** The port listened on (the one picked when the options asked for 0). */
    public int port() {
        return http.getAddress().getPort();
    }

    /** {@code http://host:port/v1}, what OpenAI clients take as their base URL. */
    public URI baseUri() {
        String host = http.getAddress().getHostString();
        return URI.create("http://" + (host.contains(":") ? "[" + host + "]" : host) + ":" + port() + "/v1");
    }

    /** Blocks until {@link #close} is called (from another thread or a shutdown hook). */
    public void awaitClose() throws InterruptedException {
        synchronized (closed) {
            while (!isClosed) {
                closed.wait();
            }
        }
    }

    /** Stops generating (the running request ends after its current token), answers waiting requests 503, stops listening. */
    @Override
    public void close() {
        synchronized (closed) {
            if (isClosed) {
                return;
            }
            isClosed = true;
            closed.notifyAll();
        }
        scheduler.close();
        http.stop(1);
        exchanges.shutdownNow();
        options.log().accept("stopped serving at port " + port());
    }
}
