package io.flexq.runtime.serve;

/**
 * A request the server refuses or could not finish, answered as OpenAI does:
 * {@code {"error": {"message": ..., "type": ..., "param": ..., "code": ...}}} with the HTTP status. {@code param}
 * names the offending request field (null when none); {@code code} is OpenAI's machine-readable code where one
 * exists (e.g. "context_length_exceeded"), else null.
 */
final class ApiError extends RuntimeException {

    final int status;
    final String type;
    final String param;
    final String code;

    ApiError(int status, String type, String message, String param, String code) {
        super(message, null, false, false);
        this.status = status;
        this.type = type;
        this.param = param;
        this.code = code;
    }

    /** 400: the request names {@code param} wrongly. */
    static ApiError invalid(String param, String message) {
        return new ApiError(400, "invalid_request_error", message, param, null);
    }

    static ApiError contextLength(String message) {
        return new ApiError(400, "invalid_request_error", message, "messages", "context_length_exceeded");
    }

    static ApiError notFound(String message) {
        return new ApiError(404, "invalid_request_error", message, null, "not_found");
    }

    static ApiError methodNotAllowed(String method, String path, String allowed) {
        return new ApiError(405, "invalid_request_error", method + " is not allowed on " + path + " (use " + allowed + ")", null, null);
    }

    static ApiError tooLarge(long limit) {
        return new ApiError(413, "invalid_request_error", "the request body is larger than " + limit + " bytes", null, null);
    }

    /** 503: the queue of waiting requests is full; clients retry later (the OpenAI clients do so by themselves). */
    static ApiError busy(int queued) {
        return new ApiError(503, "server_error", "the server is busy: " + queued + " requests are already waiting; retry later", null, "server_busy");
    }

    static ApiError internal(String message) {
        return new ApiError(500, "server_error", message, null, null);
    }
}
