package io.flexq.runtime.chat;

import io.flexq.runtime.model.Metadata;

import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * How a conversation becomes a prompt. {@link #render} lays out the whole conversation so far and ends where the
 * assistant's next reply begins. Earlier turns render the same way every time, so a caller can keep the KV cache
 * of the tokens the new prompt shares with the previous one.
 */
public sealed interface ChatTemplate permits Llama2Chat, Llama3Chat, PlainCompletion {

    /** "llama2", "llama3" or "plain". */
    String name();

    List<PromptPart> render(List<Message> conversation);

    /** Control tokens, besides EOS, that end the assistant's reply (e.g. "&lt;|eot_id|&gt;"). */
    List<String> stopTokens();

    /** Whether earlier turns stay in the prompt (false: every user message is a fresh completion). */
    default boolean keepsHistory() {
        return true;
    }

    /** By name: "llama2", "llama3", "plain" (also "none", "completion"). */
    static ChatTemplate named(String name) {
        return switch (name.toLowerCase(Locale.ROOT)) {
            case "llama2", "llama-2" -> new Llama2Chat();
            case "llama3", "llama-3" -> new Llama3Chat();
            case "plain", "none", "completion" -> new PlainCompletion();
            default -> throw new IllegalArgumentException("unknown chat template '" + name + "' (known: llama2, llama3, plain)");
        };
    }

    /**
     * The template a model asks for through GGUF {@code tokenizer.chat_template}: Llama 3's header tokens mean
     * llama3, "[INST]" means llama2; no template means a base model (plain completion). A template of another
     * family is reported as empty so the caller can say so and ask for {@code --template}.
     */
    static Optional<ChatTemplate> fromMetadata(Metadata md) {
        if (!md.has("tokenizer.chat_template")) {
            return Optional.of(new PlainCompletion());
        }
        String jinja = md.getString("tokenizer.chat_template");
        if (jinja.contains("<|start_header_id|>")) {
            return Optional.of(new Llama3Chat());
        }
        if (jinja.contains("[INST]")) {
            return Optional.of(new Llama2Chat());
        }
        return Optional.empty();
    }
}
