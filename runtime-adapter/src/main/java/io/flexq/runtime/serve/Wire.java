package io.flexq.runtime.serve;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.json.JsonMapper;

import java.util.List;

/**
 * The OpenAI wire format of responses, as records; field names become snake_case ({@code finishReason} ->
 * {@code finish_reason}). Fields OpenAI always sends are always written, as null where they do not apply
 * ({@code logprobs}, {@code refusal}), because clients read them as present.
 */
final class Wire {

    /**
     * Strict on input (a key given twice, or anything after the object, is an error rather than silently dropped),
     * snake_case on output.
     */
    static final ObjectMapper MAPPER = JsonMapper.builder()
            .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION)
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .propertyNamingStrategy(PropertyNamingStrategies.SNAKE_CASE)
            .build();

    private Wire() {
    }

    static byte[] bytes(Object value) {
        try {
            return MAPPER.writeValueAsBytes(value);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot write " + value.getClass().getSimpleName() + " as JSON: " + e.getMessage(), e);
        }
    }

    record Usage(int promptTokens, int completionTokens, int totalTokens) {
        static Usage of(int prompt, int completion) {
            return new Usage(prompt, completion, prompt + completion);
        }
    }

    // POST /v1/chat/completions

    record ChatMessage(String role, String content, String refusal) {
    }

    record ChatChoice(int index, ChatMessage message, Object logprobs, String finishReason) {
    }

    record ChatCompletion(String id, String object, long created, String model, List<ChatChoice> choices, Usage usage) {
        ChatCompletion(String id, long created, String model, List<ChatChoice> choices, Usage usage) {
            this(id, "chat.completion", created, model, choices, usage);
        }
    }

    /** A chunk's change to the message: the role in the first chunk, text after; neither in the last ({@code {}}). */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    record Delta(String role, String content) {
    }

    record ChunkChoice(int index, Delta delta, Object logprobs, String finishReason) {
    }

    /** One server-sent event of a streamed chat completion; the usage chunk has no choices. */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    record ChatChunk(String id, String object, long created, String model, List<ChunkChoice> choices, Usage usage) {
        ChatChunk(String id, long created, String model, List<ChunkChoice> choices, Usage usage) {
            this(id, "chat.completion.chunk", created, model, choices, usage);
        }
    }

    // POST /v1/completions (streamed chunks have the same shape, one piece of text each)

    record TextChoice(String text, int index, Object logprobs, String finishReason) {
    }

    @JsonInclude(JsonInclude.Include.NON_NULL)
    record TextCompletion(String id, String object, long created, String model, List<TextChoice> choices, Usage usage) {
        TextCompletion(String id, long created, String model, List<TextChoice> choices, Usage usage) {
            this(id, "text_completion", created, model, choices, usage);
        }
    }

    // GET /v1/models

    record ModelInfo(String id, String object, long created, String ownedBy) {
        ModelInfo(String id, long created) {
            this(id, "model", created, "flexq");
        }
    }

    record ModelList(String object, List<ModelInfo> data) {
        ModelList(List<ModelInfo> data) {
            this("list", data);
        }
    }

    // errors

    record ErrorDetail(String message, String type, String param, String code) {
    }

    record ErrorBody(ErrorDetail error) {
        static ErrorBody of(ApiError e) {
            return new ErrorBody(new ErrorDetail(e.getMessage(), e.type, e.param, e.code));
        }
    }
}
