package io.flexq.runtime.chat;

/**
 * A piece of a rendered prompt, before tokenization: text to encode as ordinary text (special-token markup inside
 * it is not interpreted), or a control token. Keeping them apart means a user who types "&lt;|eot_id|&gt;" gets
 * text, not a control token.
 */
public sealed interface PromptPart {

    /** The vocabulary's beginning-of-sequence token. */
    record Bos() implements PromptPart {
    }

    /** The vocabulary's end-of-sequence token. */
    record Eos() implements PromptPart {
    }

    /** A control token named by its text, e.g. "&lt;|start_header_id|&gt;". */
    record Special(String token) implements PromptPart {
    }

    /** Ordinary text. */
    record Text(String text) implements PromptPart {
    }
}
