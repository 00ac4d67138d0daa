package io.flexq.runtime.serve;

import io.flexq.runtime.chat.ChatTemplate;
import io.flexq.runtime.llama.Llama;
import io.flexq.runtime.tokenizer.Tokenizer;

import java.util.Objects;

/**
 * What the server serves: a loaded model, its tokenizer, the chat template that turns {@code messages} into a
 * prompt, and the context each request's session gets (prompt + max_tokens must fit in it). {@code id} is the name
 * {@code GET /v1/models} lists and every response carries in {@code model}. The server does not own the model: the
 * caller closes it after the server.
 */
public record ServedModel(String id, Llama llama, Tokenizer tokenizer, ChatTemplate template, int contextLength) {

    public ServedModel {
        Objects.requireNonNull(id, "id");
        Objects.requireNonNull(llama, "llama");
        Objects.requireNonNull(tokenizer, "tokenizer");
        Objects.requireNonNull(template, "template");
        if (contextLength <= 0) {
            throw new IllegalArgumentException("context length must be positive, got " + contextLength);
        }
    }
}
