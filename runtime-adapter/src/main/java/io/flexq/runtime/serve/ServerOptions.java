package io.flexq.runtime.serve;

import java.util.Objects;
import java.util.function.Consumer;

/**
 * Where the server listens and how much it takes on. {@code port} 0 picks a free port ({@link OpenAiServer#port()}
 * says which). {@code maxQueued} requests may wait behind the one being generated; past that a request gets 503.
 * {@code log} receives one line per request outcome and the server's start and stop.
 */
public record ServerOptions(String host, int port, int maxQueued, Consumer<String> log) {

    public static final String DEFAULT_HOST = "127.0.0.1";
    public static final int DEFAULT_PORT = 8080;
    public static final int DEFAULT_MAX_QUEUED = 64;

    public ServerOptions {
        Objects.requireNonNull(host, "host");
        Objects.requireNonNull(log, "log");
        if (port < 0 || port > 65535) {
            throw new IllegalArgumentException("port must be in [0, 65535], got " + port);
        }
        if (maxQueued < 1) {
            throw new IllegalArgumentException("maxQueued must be >= 1, got " + maxQueued);
        }
    }

    public static ServerOptions of(String host, int port) {
        return new ServerOptions(host, port, DEFAULT_MAX_QUEUED, line -> { });
    }

    public ServerOptions withLog(Consumer<String> log) {
        return new ServerOptions(host, port, maxQueued, log);
    }

    public ServerOptions withMaxQueued(int maxQueued) {
        return new ServerOptions(host, port, maxQueued, log);
    }
}
