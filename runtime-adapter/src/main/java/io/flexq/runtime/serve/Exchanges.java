package io.flexq.runtime.serve;

import com.sun.net.httpserver.HttpExchange;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;

/** Reading request bodies and writing JSON and server-sent events on the JDK's HTTP server. */
final class Exchanges {

    /** Larger bodies get 413: a prompt that fills any context we can serve is far below this. */
    static final int MAX_BODY_BYTES = 8 << 20;

    private Exchanges() {
    }

    static byte[] body(HttpExchange ex) throws IOException {
        try (InputStream in = ex.getRequestBody()) {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            byte[] buf = new byte[16384];
            for (int n; (n = in.read(buf)) > 0; ) {
                if (out.size() + n > MAX_BODY_BYTES) {
                    throw ApiError.tooLarge(MAX_BODY_BYTES);
                }
                out.write(buf, 0, n);
            }
            return out.toByteArray();
        }
    }

    static void json(HttpExchange ex, int status, Object value) throws IOException {
        byte[] bytes = Wire.bytes(value);
        ex.getResponseHeaders().set("Content-Type", "application/json");
        ex.sendResponseHeaders(status, bytes.length);
        try (OutputStream out = ex.getResponseBody()) {
            out.write(bytes);
        }
    }

    static void error(HttpExchange ex, ApiError e) throws IOException {
        json(ex, e.status, Wire.ErrorBody.of(e));
    }

    /** Starts a text/event-stream response (chunked: its length is not known). */
    static OutputStream startEvents(HttpExchange ex) throws IOException {
        ex.getResponseHeaders().set("Content-Type", "text/event-stream");
        ex.getResponseHeaders().set("Cache-Control", "no-cache");
        ex.sendResponseHeaders(200, 0);
        return ex.getResponseBody();
    }

    /** One event, flushed at once so the client sees each token as it is made; throws when the client is gone. */
    static void event(OutputStream out, Object value) throws IOException {
        out.write("data: ".getBytes(StandardCharsets.US_ASCII));
        out.write(Wire.bytes(value));
        out.write("\n\n".getBytes(StandardCharsets.US_ASCII));
        out.flush();
    }

    static void done(OutputStream out) throws IOException {
        out.write("data: [DONE]\n\n".getBytes(StandardCharsets.US_ASCII));
        out.flush();
    }
}
