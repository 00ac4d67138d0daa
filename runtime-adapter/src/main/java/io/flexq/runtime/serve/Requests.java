package io.flexq.runtime.serve;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import io.flexq.runtime.chat.Message;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.OptionalInt;
import java.util.OptionalLong;

/**
 * Request bodies of the two completion endpoints, read field by field so each mistake is a 400 naming the field.
 * Fields this server does not use (presence_penalty, user, ...) are ignored, as llama.cpp's server does; a field it
 * cannot honour with a different meaning ({@code n} > 1, {@code logprobs}) is refused rather than ignored.
 */
final class Requests {

    /** OpenAI's ranges and defaults: temperature 1 in [0, 2], top_p 1 in (0, 1], at most 4 stop strings. */
    record Sampling(double temperature, double topP, OptionalLong seed, OptionalInt maxTokens, List<String> stop,
                    boolean stream, boolean includeUsage) {
    }

    record Chat(List<Message> messages, Sampling sampling) {
    }

    record Completion(String prompt, Sampling sampling) {
    }

    private Requests() {
    }

    static JsonNode parse(byte[] body) {
        if (body.length == 0) {
            throw ApiError.invalid(null, "the request body is empty; send a JSON object");
        }
        JsonNode root;
        try {
            root = Wire.MAPPER.readTree(body);
        } catch (JsonProcessingException e) {
            throw ApiError.invalid(null, "the request body is not valid JSON: " + e.getOriginalMessage()
                    + " (line " + e.getLocation().getLineNr() + ", column " + e.getLocation().getColumnNr() + ")");
        } catch (IOException e) {
            throw ApiError.invalid(null, "cannot read the request body: " + e.getMessage());
        }
        if (root == null || !root.isObject()) {
            throw ApiError.invalid(null, "the request body must be a JSON object, got " + (root == null ? "nothing" : kind(root)));
        }
        return root;
    }

    static Chat chat(JsonNode root) {
        JsonNode messages = root.get("messages");
        if (messages == null || !messages.isArray() || messages.isEmpty()) {
            throw ApiError.invalid("messages", "'messages' must be a non-empty array of {role, content}");
        }
        List<Message> out = new ArrayList<>();
        for (int i = 0; i < messages.size(); i++) {
            out.add(message(messages.get(i), "messages[" + i + "]"));
        }
        return new Chat(out, sampling(root));
    }

    static Completion completion(JsonNode root) {
        JsonNode prompt = root.get("prompt");
        String text;
        if (prompt == null || prompt.isNull()) {
            text = "";
        } else if (prompt.isTextual()) {
            text = prompt.asText();
        } else if (prompt.isArray() && prompt.size() == 1 && prompt.get(0).isTextual()) {
            text = prompt.get(0).asText();
        } else {
            throw ApiError.invalid("prompt", "'prompt' must be a string (or an array of one string), got " + kind(prompt));
        }
        return new Completion(text, sampling(root));
    }

    private static Message message(JsonNode m, String where) {
        if (m == null || !m.isObject()) {
            throw ApiError.invalid(where, where + " must be an object {role, content}");
        }
        JsonNode role = m.get("role");
        if (role == null || !role.isTextual()) {
            throw ApiError.invalid(where + ".role", where + ".role must be a string");
        }
        Message.Role r = switch (role.asText().toLowerCase(Locale.ROOT)) {
            case "system", "developer" -> Message.Role.SYSTEM;
            case "user" -> Message.Role.USER;
            case "assistant" -> Message.Role.ASSISTANT;
            default -> throw ApiError.invalid(where + ".role", where + ".role '" + role.asText()
                    + "' is not supported (system, developer, user, assistant)");
        };
        return new Message(r, content(m.get("content"), where + ".content"));
    }

    /** A string, or an array of content parts of which only {"type": "text", "text": ...} are supported. */
    private static String content(JsonNode c, String where) {
        if (c == null || c.isNull()) {
            return "";
        }
        if (c.isTextual()) {
            return c.asText();
        }
        if (c.isArray()) {
            StringBuilder text = new StringBuilder();
            for (int i = 0; i < c.size(); i++) {
                JsonNode part = c.get(i);
                if (!part.isObject() || !"text".equals(part.path("type").asText()) || !part.path("text").isTextual()) {
                    throw ApiError.invalid(where, where + "[" + i + "] is not a text part {\"type\": \"text\", \"text\": ...}"
                            + " (this server takes text only)");
                }
                text.append(part.get("text").asText());
            }
            return text.toString();
        }
        throw ApiError.invalid(where, where + " must be a string or an array of text parts, got " + kind(c));
    }

    private static Sampling sampling(JsonNode root) {
        double temperature = number(root, "temperature", 0, 2, 1.0);
        double topP = number(root, "top_p", 0, 1, 1.0);
        if (topP == 0) {
            throw ApiError.invalid("top_p", "'top_p' must be greater than 0 (1 disables it)");
        }
        OptionalLong seed = root.hasNonNull("seed") ? OptionalLong.of(integer(root, "seed", Long.MIN_VALUE)) : OptionalLong.empty();
        // max_completion_tokens is the newer name; clients send one or the other
        String budgetField = root.hasNonNull("max_completion_tokens") ? "max_completion_tokens" : "max_tokens";
        OptionalInt maxTokens = root.hasNonNull(budgetField)
                ? OptionalInt.of((int) Math.min(Integer.MAX_VALUE, integer(root, budgetField, 1))) : OptionalInt.empty();
        if (root.hasNonNull("n") && integer(root, "n", 1) != 1) {
            throw ApiError.invalid("n", "'n' must be 1: this server generates one choice per request");
        }
        JsonNode logprobs = root.get("logprobs");
        if (logprobs != null && (logprobs.isNumber() || logprobs.asBoolean(false))) {
            throw ApiError.invalid("logprobs", "'logprobs' is not supported by this server");
        }
        boolean stream = bool(root, "stream");
        JsonNode options = root.get("stream_options");
        boolean includeUsage = options != null && options.isObject() && options.path("include_usage").asBoolean(false);
        return new Sampling(temperature, topP, seed, maxTokens, stops(root.get("stop")), stream, includeUsage);
    }

    private static List<String> stops(JsonNode stop) {
        if (stop == null || stop.isNull()) {
            return List.of();
        }
        List<String> out = new ArrayList<>();
        if (stop.isTextual()) {
            out.add(stop.asText());
        } else if (stop.isArray()) {
            for (JsonNode s : stop) {
                if (!s.isTextual()) {
                    throw ApiError.invalid("stop", "'stop' must be a string or an array of strings, found " + kind(s) + " in it");
                }
                out.add(s.asText());
            }
        } else {
            throw ApiError.invalid("stop", "'stop' must be a string or an array of strings, got " + kind(stop));
        }
        if (out.size() > 4) {
            throw ApiError.invalid("stop", "'stop' takes at most 4 strings, got " + out.size());
        }
        if (out.stream().anyMatch(String::isEmpty)) {
            throw ApiError.invalid("stop", "'stop' strings must not be empty");
        }
        return out;
    }

    private static double number(JsonNode root, String field, double min, double max, double absent) {
        JsonNode v = root.get(field);
        if (v == null || v.isNull()) {
            return absent;
        }
        if (!v.isNumber()) {
            throw ApiError.invalid(field, "'" + field + "' must be a number, got " + kind(v));
        }
        double d = v.asDouble();
        if (!(d >= min && d <= max)) {
            throw ApiError.invalid(field, "'" + field + "' must be in [" + min + ", " + max + "], got " + v);
        }
        return d;
    }

    private static long integer(JsonNode root, String field, long min) {
        JsonNode v = root.get(field);
        if (!v.isIntegralNumber() || !v.canConvertToLong()) {
            throw ApiError.invalid(field, "'" + field + "' must be a whole number, got " + v);
        }
        long n = v.asLong();
        if (n < min) {
            throw ApiError.invalid(field, "'" + field + "' must be at least " + min + ", got " + n);
        }
        return n;
    }

    private static boolean bool(JsonNode root, String field) {
        JsonNode v = root.get(field);
        if (v == null || v.isNull()) {
            return false;
        }
        if (!v.isBoolean()) {
            throw ApiError.invalid(field, "'" + field + "' must be true or false, got " + v);
        }
        return v.asBoolean();
    }

    private static String kind(JsonNode v) {
        return v.getNodeType().name().toLowerCase(Locale.ROOT);
    }
}
