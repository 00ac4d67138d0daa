package io.flexq.runtime.model;

/**
 * A model, tokenizer or checkpoint file that cannot be used as it is: wrong magic, truncated,
 * offsets past the end, inconsistent sizes, missing keys. The message names the file and what is wrong, with
 * terminal controls escaped and its length bounded.
 */
public class ModelFormatException extends RuntimeException {
    /** The message is made safe to print ({@link Untrusted#message}): it usually quotes strings from the file. */
    public ModelFormatException(String message) {
        super(Untrusted.message(message));
    }

    public ModelFormatException(String message, Throwable cause) {
        super(Untrusted.message(message), cause);
    }
}
