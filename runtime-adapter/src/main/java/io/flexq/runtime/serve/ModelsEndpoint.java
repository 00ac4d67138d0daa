package io.flexq.runtime.serve;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpHandler;

import java.io.IOException;
import java.util.List;

/** {@code GET /v1/models} (the one model served) and {@code GET /v1/models/{id}}. */
final class ModelsEndpoint implements HttpHandler {

    private final Wire.ModelInfo model;

    ModelsEndpoint(String id, long created) {
        this.model = new Wire.ModelInfo(id, created);
    }

    @Override
    public void handle(HttpExchange ex) throws IOException {
        try (ex) {
            String path = ex.getRequestURI().getPath();
            try {
                if (!ex.getRequestMethod().equals("GET")) {
                    throw ApiError.methodNotAllowed(ex.getRequestMethod(), path, "GET");
                }
                if (path.equals("/v1/models") || path.equals("/v1/models/")) {
                    Exchanges.json(ex, 200, new Wire.ModelList(List.of(model)));
                } else if (path.equals("/v1/models/" + model.id())) {
                    Exchanges.json(ex, 200, model);
                } else if (path.startsWith("/v1/models/")) {
                    throw ApiError.notFound("no model '" + path.substring("/v1/models/".length()) + "' (this server serves '" + model.id() + "')");
                } else {
                    throw ApiError.notFound("no endpoint " + path);
                }
            } catch (ApiError e) {
                Exchanges.error(ex, e);
            }
        }
    }
}
